using System.Diagnostics.Metrics;
using System.Net.WebSockets;
using System.Threading.Channels;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.Gateway.Streaming;

/// <summary>
/// One connection's bounded send buffer and the one loop that writes its socket. Producers (market feeds shared by
/// every connection, a user's consumers) only ever enqueue: a frame that would take the queued bytes past
/// <see cref="StreamOptions.SendBufferBytes"/> is not queued, and the connection is closed with 4003 instead, so a
/// client that stops reading costs a bounded amount of memory and never makes a producer wait.
/// </summary>
public sealed class OutboundFrames : IDisposable
{
    public const WebSocketCloseStatus SlowConsumer = (WebSocketCloseStatus)4003;

    private static readonly Counter<long> FramesSent = QuantTraderTelemetry.Meter.CreateCounter<long>(
        "quanttrader.stream.frames_sent", description: "Frames the streaming API handed to client sockets");
    private static readonly Counter<long> SlowClosed = QuantTraderTelemetry.Meter.CreateCounter<long>(
        "quanttrader.stream.slow_consumers", description: "Stream connections closed because their send buffer filled");

    private readonly WebSocket _socket;
    private readonly long _limit;
    private readonly TimeSpan _closeTimeout;
    private readonly TimeProvider _time;
    private readonly Channel<byte[]> _queue = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _closing = new();
    private readonly CancellationTokenSource _finished = new();
    private long _queuedBytes;
    private Close? _close;

    private sealed record Close(WebSocketCloseStatus Status, string Reason, bool Drain);

    public OutboundFrames(WebSocket socket, StreamOptions options, TimeProvider time)
    {
        _socket = socket;
        _limit = Math.Max(1024, options.SendBufferBytes);
        _closeTimeout = options.CloseTimeout;
        _time = time;
    }

    /// <summary>Cancelled once the connection is closing for any reason: what feeds this connection can stop.</summary>
    public CancellationToken Closing => _closing.Token;

    public bool IsClosing => Volatile.Read(ref _close) is not null;

    /// <summary>Queues a frame; false when the connection is closing (or this frame made it close as too slow).</summary>
    public bool Send(byte[] frame)
    {
        if (Volatile.Read(ref _close) is not null)
        {
            return false;
        }
        if (Interlocked.Add(ref _queuedBytes, frame.Length) > _limit)
        {
            Interlocked.Add(ref _queuedBytes, -frame.Length);
            if (RequestClose(SlowConsumer, "slow consumer", drain: false))
            {
                SlowClosed.Add(1);
            }
            return false;
        }
        return _queue.Writer.TryWrite(frame);
    }

    /// <summary>
    /// Closes the connection with <paramref name="status"/>: after the frames already queued (<paramref name="drain"/>:
    /// an error the client should read first) or at once. The first request wins. If the close frame cannot be written
    /// within <see cref="StreamOptions.CloseTimeout"/> (a client that reads nothing), the socket is aborted.
    /// </summary>
    public bool RequestClose(WebSocketCloseStatus status, string reason, bool drain)
    {
        if (Interlocked.CompareExchange(ref _close, new Close(status, reason, drain), null) is not null)
        {
            return false;
        }
        _queue.Writer.TryComplete();
        // Off the caller's thread: a market feed fanning out a frame must not run this connection's clean-up.
        _ = Task.Run(_closing.Cancel);
        _ = AbortLaterAsync();
        return true;
    }

    private async Task AbortLaterAsync()
    {
        try
        {
            await Task.Delay(_closeTimeout, _time, _finished.Token);
            _socket.Abort();
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Writes queued frames until the connection closes; then the close frame.</summary>
    public async Task RunAsync()
    {
        try
        {
            await foreach (var frame in _queue.Reader.ReadAllAsync())
            {
                if (Volatile.Read(ref _close) is { Drain: false })
                {
                    break;
                }
                await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                Interlocked.Add(ref _queuedBytes, -frame.Length);
                FramesSent.Add(1);
            }
            if (Volatile.Read(ref _close) is { } close && _socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(close.Status, close.Reason, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client is gone, or the socket was aborted after the close timeout: nothing left to write to.
        }
        finally
        {
            RequestClose(WebSocketCloseStatus.NormalClosure, "", drain: false);
        }
    }

    /// <summary>The connection is over: no abort is needed any more.</summary>
    public void Dispose()
    {
        _finished.Cancel();
        _finished.Dispose();
    }
}
