using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using QuantTrader.Ingestor.Sequencing;

namespace QuantTrader.Ingestor.Connectors;

/// <summary>Why a connection ended or was replaced; the reconnect metric's <c>reason</c> tag.</summary>
public static class EndReasons
{
    public const string Lost = "lost";
    public const string ClosedByExchange = "closed_by_exchange";
    public const string Watchdog = "watchdog";
    public const string Rotation = "rotation";
    public const string Notice = "notice_64008";
}

/// <summary>
/// One exchange WebSocket: receives whole messages into a pooled buffer and hands them to the connector, sends
/// through a rate gate and one sender at a time, and remembers when it last heard anything (for the watchdog).
/// Pings from the server are answered by the WebSocket layer with a pong echoing the payload (RFC 6455 §5.5.3),
/// which is exactly what Binance requires.
/// </summary>
public sealed class FeedConnection : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly OutgoingRateGate _gate;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<(string Kind, string Detail)> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _rotation = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _firstTrade = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastReceivedTicks;
    private int _delivering;

    private FeedConnection(ClientWebSocket socket, Uri uri, int number, OutgoingRateGate gate, TimeProvider time)
    {
        _socket = socket;
        Uri = uri;
        Number = number;
        _gate = gate;
        _time = time;
        OpenedAt = time.GetUtcNow();
        _lastReceivedTicks = OpenedAt.UtcTicks;
    }

    public Uri Uri { get; }

    /// <summary>Sequence number among this connector's connections, for logs.</summary>
    public int Number { get; }

    public DateTimeOffset OpenedAt { get; }

    public DateTimeOffset LastReceived => new(Interlocked.Read(ref _lastReceivedTicks), TimeSpan.Zero);

    /// <summary>A received message is being handed to the pipeline (possibly waiting on its back-pressure).</summary>
    public bool Delivering => Volatile.Read(ref _delivering) != 0;

    /// <summary>Completes with the reason once the connection is gone, for whatever cause.</summary>
    public Task<(string Kind, string Detail)> Ended => _ended.Task;

    /// <summary>Completes when the exchange asked us to move (OKX 64008).</summary>
    public Task<string> RotationRequested => _rotation.Task;

    /// <summary>Completes at the first trade received: the connection is live.</summary>
    public Task FirstTrade => _firstTrade.Task;

    public DateTimeOffset? LastPingSent { get; private set; }

    public static async Task<FeedConnection> ConnectAsync(Uri uri, int number, OutgoingRateGate gate, TimeProvider time, CancellationToken ct)
    {
        var socket = new ClientWebSocket();
        // No unsolicited keep-alive frames: they would count against the exchange's incoming-message cap.
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(15));
        try
        {
            await socket.ConnectAsync(uri, timeout.Token);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new FeedConnection(socket, uri, number, gate, time);
    }

    public void MarkTrade() => _firstTrade.TrySetResult();

    public void RequestRotation(string reason) => _rotation.TrySetResult(reason);

    /// <summary>Sends a text message, waiting for the rate gate (the exchange disconnects clients that send too fast).</summary>
    public async Task SendTextAsync(string text, CancellationToken ct)
    {
        await _gate.AcquireAsync(_time, ct);
        await _sendLock.WaitAsync(ct);
        try
        {
            await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, ct);
            if (text == "ping")
            {
                LastPingSent = _time.GetUtcNow();
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Reads until the connection ends; every whole message goes to <paramref name="onMessage"/>.</summary>
    public async Task ReceiveAsync(Func<FeedConnection, ReadOnlyMemory<byte>, ValueTask> onMessage, CancellationToken ct)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _stop.Token);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                var result = await _socket.ReceiveAsync(buffer.AsMemory(length), linked.Token);
                Interlocked.Exchange(ref _lastReceivedTicks, _time.GetUtcNow().UtcTicks);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    End(EndReasons.ClosedByExchange, $"closed by the exchange: {(int?)_socket.CloseStatus} {_socket.CloseStatusDescription}");
                    return;
                }

                length += result.Count;
                if (result.EndOfMessage)
                {
                    // While the pipeline applies back-pressure nothing is read, which is not the exchange going
                    // silent: the watchdog skips a delivering connection, and silence counts again from when it
                    // can listen. (At 50,000 trades/s offered the watchdog cut healthy connections this way, and
                    // the REST backfill that followed added load to an overloaded system.)
                    Volatile.Write(ref _delivering, 1);
                    try
                    {
                        await onMessage(this, buffer.AsMemory(0, length));
                    }
                    finally
                    {
                        Interlocked.Exchange(ref _lastReceivedTicks, _time.GetUtcNow().UtcTicks);
                        Volatile.Write(ref _delivering, 0);
                    }

                    length = 0;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested || ct.IsCancellationRequested)
        {
            End(EndReasons.Lost, "stopped");
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            End(EndReasons.Lost, $"connection lost: {ex.Message}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Drops the connection at once (watchdog).</summary>
    public void Abort(string kind, string detail)
    {
        End(kind, detail);
        _stop.Cancel();
        _socket.Abort();
    }

    /// <summary>Closes politely (retiring a connection that has a successor).</summary>
    public async Task CloseAsync(string description)
    {
        End(EndReasons.Rotation, description);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, description, timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }

        await _stop.CancelAsync();
        _socket.Abort();
    }

    public ValueTask DisposeAsync()
    {
        End(EndReasons.Lost, "disposed");
        _stop.Cancel();
        _socket.Dispose();
        _stop.Dispose();
        _sendLock.Dispose();
        return ValueTask.CompletedTask;
    }

    private void End(string kind, string detail) => _ended.TrySetResult((kind, detail));
}
