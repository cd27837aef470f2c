using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;

namespace QuantTrader.ExchangeSimulator.Market;

/// <summary>
/// One client WebSocket. Every outgoing frame goes through <see cref="Send"/> into one outbox, written by one loop:
/// a WebSocket allows one sender at a time, and a client too slow to keep up is cut off like the exchanges do.
/// </summary>
public abstract class SimSession(string exchange, WebSocket socket, string remote)
{
    private readonly Channel<string> _outbox = Channel.CreateBounded<string>(
        new BoundedChannelOptions(100_000) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _abort = new();
    private string? _closeReason;

    public Guid Id { get; } = Guid.NewGuid();

    public string Exchange { get; } = exchange;

    public string Remote { get; } = remote;

    public DateTimeOffset OpenedAt { get; } = DateTimeOffset.UtcNow;

    public DateTimeOffset? ClosedAt { get; private set; }

    /// <summary>Who ended it and why: the client's close description, or the simulator's reason.</summary>
    public string? CloseReason => _closeReason;

    /// <summary>Stalled: sends nothing more and reads nothing (so no pongs either), as a hung exchange would.</summary>
    public bool Stalled { get; set; }

    public long FramesSent;

    private long _lastActivityTicks = DateTimeOffset.UtcNow.UtcTicks;

    /// <summary>When a frame last went either way (OKX's idle rule: nothing pushed and nothing received).</summary>
    public DateTimeOffset LastActivity => new(Interlocked.Read(ref _lastActivityTicks), TimeSpan.Zero);

    protected void MarkActivity() => Interlocked.Exchange(ref _lastActivityTicks, DateTimeOffset.UtcNow.UtcTicks);

    protected WebSocket Socket { get; } = socket;

    protected CancellationToken Aborted => _abort.Token;

    public abstract IReadOnlyCollection<string> Subscriptions { get; }

    /// <summary>Formats and queues the print if this session subscribed to it.</summary>
    public abstract void OnPrint(SimPrint print);

    /// <summary>
    /// A replayed frame: the captured text as it was if this session subscribed to its stream, and the prints it made in
    /// this market formatted for whatever else the session subscribed to (e.g. <c>@trade</c> while the capture is
    /// <c>@aggTrade</c>, or any stream for a CSV row).
    /// </summary>
    public abstract void OnReplay(Replay.ReplayFrame frame, IReadOnlyList<SimPrint> prints);

    public void Send(string text)
    {
        if (Stalled || ClosedAt is not null)
        {
            return;
        }

        if (!_outbox.Writer.TryWrite(text))
        {
            Abort("slow consumer: outbox full");
        }
    }

    /// <summary>Ends the session at once (no close handshake): how a network cut looks to the client.</summary>
    public void Abort(string reason)
    {
        Interlocked.CompareExchange(ref _closeReason, reason, null);
        _abort.Cancel();
        Socket.Abort();
    }

    /// <summary>Closes with a close frame (the exchange ending the connection on purpose).</summary>
    public async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        Interlocked.CompareExchange(ref _closeReason, reason, null);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await Socket.CloseOutputAsync(status, reason, timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }

        _abort.Cancel();
    }

    /// <summary>Runs the send loop, the protocol's receive loop and its timers until any of them ends the session.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, _abort.Token);
        var tasks = new[] { SendLoopAsync(linked.Token), ReceiveLoopAsync(linked.Token), TimersAsync(linked.Token) };
        await Task.WhenAny(tasks);
        await _abort.CancelAsync();
        try
        {
            await Task.WhenAll(tasks);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
        }

        Interlocked.CompareExchange(ref _closeReason, Socket.CloseStatusDescription ?? "connection lost", null);
        ClosedAt = DateTimeOffset.UtcNow;
        _outbox.Writer.TryComplete();
        Socket.Abort();
    }

    protected abstract Task ReceiveLoopAsync(CancellationToken ct);

    protected virtual Task TimersAsync(CancellationToken ct) => Task.Delay(Timeout.Infinite, ct);

    /// <summary>Reads one whole text message, or null when the client closed.</summary>
    protected async Task<string?> ReceiveTextAsync(CancellationToken ct)
    {
        var buffer = new byte[8192];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await Socket.ReceiveAsync(buffer, ct);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                Interlocked.CompareExchange(ref _closeReason, $"client closed: {Socket.CloseStatusDescription}", null);
                return null;
            }

            message.Write(buffer, 0, result.Count);
            MarkActivity();
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length);
            }
        }
    }

    /// <summary>Waits while stalled: a stalled exchange neither reads nor answers.</summary>
    protected async Task WhileStalledAsync(CancellationToken ct)
    {
        while (Stalled)
        {
            await Task.Delay(100, ct);
        }
    }

    private async Task SendLoopAsync(CancellationToken ct)
    {
        // One reused buffer instead of a new byte array per frame: the simulator shares the machine with the system
        // it drives, so its per-trade garbage is CPU taken from what is measured.
        var buffer = new byte[4096];
        await foreach (var text in _outbox.Reader.ReadAllAsync(ct))
        {
            if (Stalled)
            {
                continue;
            }

            var size = Encoding.UTF8.GetMaxByteCount(text.Length);
            if (size > buffer.Length)
            {
                buffer = new byte[Math.Max(size, buffer.Length * 2)];
            }

            var length = Encoding.UTF8.GetBytes(text, buffer);
            await Socket.SendAsync(buffer.AsMemory(0, length), WebSocketMessageType.Text, endOfMessage: true, ct);
            Interlocked.Increment(ref FramesSent);
            MarkActivity();
        }
    }
}
