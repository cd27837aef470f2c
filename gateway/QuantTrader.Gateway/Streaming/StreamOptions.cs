namespace QuantTrader.Gateway.Streaming;

/// <summary>
/// Configuration section <c>QuantTrader:Stream</c>: the streaming API's timings and the bounds that are not per plan
/// (per-plan bounds are <c>StreamConnections</c> and <c>StreamSubscriptions</c> of the plan's limits). docs/streaming.md.
/// </summary>
public sealed class StreamOptions
{
    public const string Section = "QuantTrader:Stream";

    /// <summary>A <c>heartbeat</c> frame (and a WebSocket keep-alive frame) this often.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Nothing received from the client for this long: close 4002.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Frames queued for one connection and not yet handed to its socket, in bytes; past it: close 4003.</summary>
    public int SendBufferBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// The kernel's send buffer of a stream connection. Left to autotuning it grows to megabytes per slow client, all
    /// of it memory the send buffer above was meant to bound.
    /// </summary>
    public int SocketSendBufferBytes { get; set; } = 64 * 1024;

    /// <summary>A connection being closed gets this long for its last frame and the close frame; then it is aborted.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Open connections per client address before they authenticate.</summary>
    public int AnonymousConnectionsPerAddress { get; set; } = 20;

    /// <summary>Subscriptions per connection before it authenticates.</summary>
    public int AnonymousSubscriptions { get; set; } = 50;

    /// <summary>The venues whose markets may be named in a public channel (API.md: binance, okx, bybit).</summary>
    public string[] Exchanges { get; set; } = ["binance", "okx", "bybit"];

    /// <summary>A <c>portfolio</c> subscription gets the whole portfolio this often, and after each fill.</summary>
    public TimeSpan PortfolioInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>At most one portfolio after fills per this period (a burst of fills is one snapshot).</summary>
    public TimeSpan PortfolioMinInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A client frame larger than this closes the connection (4000).</summary>
    public int MaxClientMessageBytes { get; set; } = 16 * 1024;

    /// <summary>At most this many channels in one subscribe or unsubscribe.</summary>
    public int MaxChannelsPerMessage { get; set; } = 64;
}
