using System.Diagnostics.Metrics;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;
using QuantTrader.Gateway.Authentication;
using QuantTrader.Gateway.ClientAddresses;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Messaging;
using QuantTrader.ServiceDefaults.Problems;

namespace QuantTrader.Gateway.Streaming;

/// <summary>
/// <c>GET /api/v1/stream</c>: takes the upgrade, gives the connection its place among the caller's (or the address's)
/// open connections, and starts the subscriptions sessions ask for. Holds nothing a second replica would need:
/// market feeds are per replica, private cursors are the client's <c>seq</c>, connection counts are a per-replica share.
/// </summary>
public sealed class StreamSessions(
    IOptions<StreamOptions> options,
    MarketFeeds markets,
    ConnectionLimits limits,
    KeyResolver keys,
    AuthenticationFailureLimits failures,
    AccountStreams accounts,
    INatsConnection nats,
    INatsJSContext js,
    IHttpClientFactory httpClients,
    IdentityToken tokens,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<StreamSessions> logger)
{
    private static long _open;
    private static readonly ObservableGauge<long> OpenConnections = QuantTraderTelemetry.Meter.CreateObservableGauge(
        "quanttrader.stream.connections", () => Interlocked.Read(ref _open), description: "Open streaming API connections on this gateway");

    public StreamOptions Options { get; } = options.Value;
    public ConnectionLimits Limits => limits;
    public KeyResolver Keys => keys;
    public AuthenticationFailureLimits Failures => failures;
    public AccountStreams Accounts => accounts;
    public TimeProvider Time => time;
    public ILogger Logger => logger;

    public static string UserKey(Guid userId) => $"user:{userId:N}";

    public async Task<IResult?> AcceptAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return ProblemResults.Problem(StatusCodes.Status426UpgradeRequired, "websocket-required", "WebSocket upgrade required.",
                "GET /api/v1/stream is a WebSocket (docs/streaming.md): connect with a WebSocket client.");
        }

        // A script may authenticate on the upgrade (Authorization header, checked by CallerAuthentication); a browser
        // cannot, and sends an auth message instead.
        var caller = context.AuthenticatedCaller();
        var place = caller is null
            ? limits.TryOpen($"ip:{ClientAddress.PartitionKey(context)}", Options.AnonymousConnectionsPerAddress)
            : limits.TryOpen(UserKey(caller.UserId), caller.Limits.StreamConnections);

        if (context.Features.Get<IConnectionSocketFeature>()?.Socket is { } tcp)
        {
            tcp.SendBufferSize = Options.SocketSendBufferBytes;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = Options.HeartbeatInterval });
        using var frames = new OutboundFrames(socket, Options, time);
        if (place is null)
        {
            frames.Send(StreamFrames.Error("connection-limit", caller is null
                ? $"At most {Options.AnonymousConnectionsPerAddress} unauthenticated stream connections per address."
                : $"The {caller.Plan} plan allows {caller.Limits.StreamConnections} open stream connections; close one or move to a larger plan."));
            frames.RequestClose(StreamSession.ConnectionLimit, "connection limit", drain: true);
            await frames.RunAsync();
            await DrainCloseAsync(socket);
            return null;
        }

        Interlocked.Increment(ref _open);
        try
        {
            await new StreamSession(context, socket, frames, place, caller, this).RunAsync(lifetime.ApplicationStopping);
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
        return null;
    }

    /// <summary>The subscription behind a channel; its <c>subscribed</c> (or <c>resync</c>) frame is queued before any data.</summary>
    public async Task<IAsyncDisposable> StartAsync(StreamChannel channel, Caller? caller, ulong? since, JsonElement? id, OutboundFrames frames, CancellationToken ct) =>
        channel.Kind switch
        {
            ChannelKind.Trades or ChannelKind.Candles => await markets.JoinAsync(channel, frames, StreamFrames.Subscribed(channel.Name, null, id), ct),
            ChannelKind.Orders or ChannelKind.Fills or ChannelKind.Alerts => await SequencedFeed.StartAsync(channel, caller!, since, id, frames, js, logger, ct),
            ChannelKind.Strategies => await StrategyFeed.StartAsync(channel, caller!, id, frames, nats, ct),
            ChannelKind.Portfolio => await PortfolioFeed.StartAsync(channel, caller!, id, frames, nats, httpClients, tokens, Options, time, logger, ct),
            _ => throw new ArgumentOutOfRangeException(nameof(channel), channel.Kind, null),
        };

    private static async Task DrainCloseAsync(WebSocket socket)
    {
        var buffer = new byte[1024];
        try
        {
            while (socket.State == WebSocketState.CloseSent
                && (await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None)).MessageType != WebSocketMessageType.Close)
            {
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }
}
