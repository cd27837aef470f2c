using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// A client of the gateway's streaming API (docs/streaming.md) over a real <see cref="ClientWebSocket"/>: sends JSON
/// messages, keeps every frame it reads, and records how the server closed the connection.
/// </summary>
public sealed class StreamClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly HttpMessageInvoker? _invoker;
    private readonly List<JsonElement> _frames = [];
    private readonly TaskCompletionSource<WebSocketCloseStatus?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _reading;

    private StreamClient(ClientWebSocket socket, HttpMessageInvoker? invoker)
    {
        _socket = socket;
        _invoker = invoker;
    }

    public static Uri Address(SystemFixture system) =>
        new UriBuilder(system.Gateway.BaseAddress!) { Scheme = "ws", Path = "/api/v1/stream" }.Uri;

    /// <summary>
    /// Connects; reads in the background unless <paramref name="read"/> is false (a client that never reads, with a
    /// 4 KB socket receive buffer so the server's frames back up at once instead of into megabytes of kernel buffers).
    /// </summary>
    public static async Task<StreamClient> ConnectAsync(SystemFixture system, bool read = true, string? bearer = null)
    {
        var socket = new ClientWebSocket();
        if (bearer is not null)
        {
            socket.Options.SetRequestHeader("Authorization", $"Bearer {bearer}");
        }
        HttpMessageInvoker? invoker = null;
        if (!read)
        {
            invoker = new HttpMessageInvoker(new SocketsHttpHandler
            {
                ConnectCallback = async (context, ct) =>
                {
                    var tcp = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };
                    await tcp.ConnectAsync(context.DnsEndPoint, ct);
                    return new NetworkStream(tcp, ownsSocket: true);
                },
            });
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(Address(system), invoker, timeout.Token);
        var client = new StreamClient(socket, invoker);
        if (read)
        {
            client.StartReading();
        }
        return client;
    }

    /// <summary>How the server closed the connection (null: it was not a close frame but a broken connection).</summary>
    public Task<WebSocketCloseStatus?> Closed => _closed.Task;

    public string? CloseReason => _socket.CloseStatusDescription;

    public void StartReading() => _reading ??= Task.Run(ReadAsync);

    public async Task SendAsync(object message)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(message);
        await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
    }

    public Task AuthenticateAsync(string apiKey) => SendAsync(new { type = "auth", apiKey });

    public Task SubscribeAsync(params string[] channels) => SendAsync(new { type = "subscribe", channels });

    /// <summary>Every frame read so far, in order.</summary>
    public List<JsonElement> Frames
    {
        get
        {
            lock (_frames)
            {
                return [.. _frames];
            }
        }
    }

    public List<JsonElement> OfType(string type) => [.. Frames.Where(f => f.GetProperty("type").GetString() == type)];

    /// <summary>The first frame (read so far or later) that matches; fails after <paramref name="timeout"/>.</summary>
    public async Task<JsonElement> WaitForAsync(Func<JsonElement, bool> match, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            foreach (var frame in Frames)
            {
                if (match(frame))
                {
                    return frame;
                }
            }
            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException($"No {what} within the wait; frames: {string.Join("\n", Frames.TakeLast(10).Select(f => f.GetRawText()))}");
            }
            await Task.Delay(20);
        }
    }

    public Task<JsonElement> WaitForAsync(string type, string? channel = null, TimeSpan? timeout = null) =>
        WaitForAsync(f => Is(f, type, channel), $"'{type}' frame{(channel is null ? "" : $" for {channel}")}", timeout);

    public static bool Is(JsonElement frame, string type, string? channel = null) =>
        frame.GetProperty("type").GetString() == type
        && (channel is null || (frame.TryGetProperty("channel", out var c) && c.GetString() == channel));

    /// <summary>For a client that does not read in the background: reads frames itself until one matches.</summary>
    public async Task<JsonElement> ReadUntilAsync(string type, string? channel = null)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await ReadFrameAsync(timeout.Token) is { } frame)
        {
            if (Is(frame, type, channel))
            {
                return frame;
            }
        }
        throw new InvalidOperationException($"The connection closed before a '{type}' frame");
    }

    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly MemoryStream _message = new();

    /// <summary>The next frame (also kept in <see cref="Frames"/>), or null once the connection is closed.</summary>
    private async Task<JsonElement?> ReadFrameAsync(CancellationToken ct)
    {
        while (true)
        {
            var result = await _socket.ReceiveAsync(_buffer, ct);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                _closed.TrySetResult(_socket.CloseStatus);
                if (_socket.State == WebSocketState.CloseReceived)
                {
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                }
                return null;
            }
            _message.Write(_buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                var frame = JsonDocument.Parse(Encoding.UTF8.GetString(_message.GetBuffer(), 0, (int)_message.Length)).RootElement.Clone();
                _message.SetLength(0);
                lock (_frames)
                {
                    _frames.Add(frame);
                }
                return frame;
            }
        }
    }

    private async Task ReadAsync()
    {
        try
        {
            while (await ReadFrameAsync(CancellationToken.None) is not null)
            {
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            _closed.TrySetResult(null);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }
        _socket.Abort();
        if (_reading is not null)
        {
            await _reading;
        }
        _socket.Dispose();
        _invoker?.Dispose();
    }
}
