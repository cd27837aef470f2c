using System.Net.WebSockets;
using System.Text.Json;
using QuantTrader.ServiceDefaults.Identity;

namespace QuantTrader.Gateway.Streaming;

/// <summary>
/// One client's WebSocket: reads its messages one at a time (auth, subscribe, unsubscribe, ping), holds its
/// subscriptions, sends heartbeats and closes it when idle. Everything it sends goes through <see cref="OutboundFrames"/>.
/// </summary>
public sealed class StreamSession(HttpContext http, WebSocket socket, OutboundFrames frames, ConnectionLimits.Place place,
    Caller? caller, StreamSessions services)
{
    public const WebSocketCloseStatus BadMessage = (WebSocketCloseStatus)4000;
    public const WebSocketCloseStatus Unauthorized = (WebSocketCloseStatus)4001;
    public const WebSocketCloseStatus Idle = (WebSocketCloseStatus)4002;
    public const WebSocketCloseStatus ConnectionLimit = (WebSocketCloseStatus)4004;
    public const WebSocketCloseStatus AuthenticationRateLimited = (WebSocketCloseStatus)4005;
    public const WebSocketCloseStatus AccountsUnavailable = (WebSocketCloseStatus)4006;

    private readonly Dictionary<string, IAsyncDisposable> _subscriptions = new(StringComparer.Ordinal);
    private readonly StreamOptions _options = services.Options;
    private ConnectionLimits.Place _place = place;
    private Caller? _caller = caller;
    private IDisposable? _account = caller is null ? null : services.Accounts.Register(caller.UserId, frames);
    private long _lastHeard = services.Time.GetTimestamp();

    private int SubscriptionLimit => _caller?.Limits.StreamSubscriptions ?? _options.AnonymousSubscriptions;

    public async Task RunAsync(CancellationToken stopping)
    {
        using var shutdown = stopping.Register(() => frames.RequestClose(WebSocketCloseStatus.EndpointUnavailable, "going away", drain: false));
        var sender = frames.RunAsync();
        var heartbeat = HeartbeatAsync();
        frames.Send(Welcome());
        if (_caller is not null)
        {
            frames.Send(Authenticated(_caller, null));
        }
        try
        {
            await ReceiveAsync();
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away or the socket was aborted: clean up below.
        }
        finally
        {
            frames.RequestClose(WebSocketCloseStatus.NormalClosure, "", drain: false);
            foreach (var subscription in _subscriptions.Values)
            {
                await StopAsync(subscription);
            }
            _subscriptions.Clear();
            await sender;
            await heartbeat;
            _place.Dispose();
            _account?.Dispose();
            frames.Dispose();
        }
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[_options.MaxClientMessageBytes];
        while (true)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                if (length == buffer.Length)
                {
                    Refuse(BadMessage, "bad message", "bad-request", $"A message is at most {buffer.Length} bytes.");
                    await DrainAsync();
                    return;
                }
                result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                length += result.Count;
            }
            while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

            if (result.MessageType == WebSocketMessageType.Close)
            {
                // The client's close, or its answer to ours: answer it (if we have not closed yet) and stop.
                frames.RequestClose(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, "", drain: false);
                return;
            }
            Interlocked.Exchange(ref _lastHeard, services.Time.GetTimestamp());
            if (frames.IsClosing)
            {
                continue; // Closing: read until the client's close frame, act on nothing.
            }
            if (result.MessageType == WebSocketMessageType.Binary)
            {
                Refuse(BadMessage, "bad message", "bad-request", "Frames are text frames holding one JSON object.");
                continue;
            }
            ClientMessage message;
            try
            {
                message = ClientMessage.Parse(buffer.AsMemory(0, length), _options.MaxChannelsPerMessage);
            }
            catch (JsonException)
            {
                Refuse(BadMessage, "bad message", "bad-request", "A frame must be one JSON object (docs/streaming.md).");
                continue;
            }
            await HandleAsync(message);
        }
    }

    /// <summary>After a frame too large to read: reads on until the client's close (or the abort).</summary>
    private async Task DrainAsync()
    {
        var buffer = new byte[4096];
        while ((await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None)).MessageType != WebSocketMessageType.Close)
        {
        }
    }

    private async Task HandleAsync(ClientMessage message)
    {
        if (message.Problem is not null)
        {
            frames.Send(StreamFrames.Error("bad-request", message.Problem, id: message.Id));
            return;
        }
        switch (message.Type)
        {
            case "ping":
                frames.Send(StreamFrames.Pong(services.Time.GetUtcNow(), message.Id));
                break;
            case "auth":
                await AuthenticateAsync(message);
                break;
            case "subscribe":
                foreach (var channel in message.Channels)
                {
                    await SubscribeAsync(channel, message.Since.TryGetValue(channel, out var since) ? since : null, message.Id);
                }
                break;
            case "unsubscribe":
                foreach (var channel in message.Channels)
                {
                    if (_subscriptions.Remove(channel, out var subscription))
                    {
                        await StopAsync(subscription);
                    }
                    frames.Send(StreamFrames.Unsubscribed(channel, message.Id));
                }
                break;
            default:
                frames.Send(StreamFrames.Error("bad-request", $"Unknown type '{message.Type}': use auth, subscribe, unsubscribe or ping.", id: message.Id));
                break;
        }
    }

    private async Task AuthenticateAsync(ClientMessage message)
    {
        if (_caller is not null)
        {
            frames.Send(StreamFrames.Error("already-authenticated", "This connection is already authenticated; open another for another key.", id: message.Id));
            return;
        }
        if (string.IsNullOrWhiteSpace(message.ApiKey))
        {
            frames.Send(StreamFrames.Error("bad-request", "An auth message needs 'apiKey'.", id: message.Id));
            return;
        }
        // The REST door's own checks: the address's failed-key budget, then the cached key lookup.
        if (services.Failures.Refusal(http) is not null)
        {
            Refuse(AuthenticationRateLimited, "authentication rate limited", "authentication-rate-limited",
                "This address sent too many unknown or malformed API keys; wait a minute.", message.Id);
            return;
        }
        Caller? found;
        try
        {
            found = await services.Keys.ResolveAsync(message.ApiKey.Trim(), http.RequestAborted);
        }
        catch (HttpRequestException)
        {
            Refuse(AccountsUnavailable, "accounts unavailable", "accounts-unavailable", "API keys cannot be checked right now; try again shortly.", message.Id);
            return;
        }
        if (found is null)
        {
            services.Failures.RecordFailure(http);
            Refuse(Unauthorized, "unauthorized", "unauthorized", "The API key is unknown or revoked.", message.Id);
            return;
        }
        if (services.Limits.TryOpen(StreamSessions.UserKey(found.UserId), found.Limits.StreamConnections) is not { } userPlace)
        {
            Refuse(ConnectionLimit, "connection limit", "connection-limit",
                $"The {found.Plan} plan allows {found.Limits.StreamConnections} open stream connections; close one or move to a larger plan.", message.Id);
            return;
        }
        _place.Dispose();
        _place = userPlace;
        _caller = found;
        _account = services.Accounts.Register(found.UserId, frames);
        frames.Send(Authenticated(found, message.Id));
    }

    private async Task SubscribeAsync(string name, ulong? since, JsonElement? id)
    {
        if (StreamChannel.Parse(name, _options.Exchanges, out var problem) is not { } channel)
        {
            frames.Send(StreamFrames.Error("unknown-channel", problem!, name, id));
            return;
        }
        if (_subscriptions.ContainsKey(name))
        {
            frames.Send(StreamFrames.Subscribed(name, null, id));
            return;
        }
        if (channel.IsPrivate && _caller is null)
        {
            frames.Send(StreamFrames.Error("unauthenticated", $"'{name}' is private: send {{\"type\":\"auth\",\"apiKey\":…}} first.", name, id));
            return;
        }
        if (_subscriptions.Count >= SubscriptionLimit)
        {
            frames.Send(StreamFrames.Error("subscription-limit",
                $"At most {SubscriptionLimit} subscriptions per connection{(_caller is null ? " before auth" : $" on the {_caller.Plan} plan")}; unsubscribe from one first.", name, id));
            return;
        }
        try
        {
            _subscriptions[name] = await services.StartAsync(channel, _caller, since, id, frames, http.RequestAborted);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !http.RequestAborted.IsCancellationRequested)
        {
            services.Logger.LogWarning(ex, "Subscribing a stream connection to {Channel} failed", name);
            frames.Send(StreamFrames.Error("internal-error", $"'{name}' cannot be subscribed right now; try again shortly.", name, id));
        }
    }

    private async Task StopAsync(IAsyncDisposable subscription)
    {
        try
        {
            await subscription.DisposeAsync();
        }
        catch (Exception ex)
        {
            services.Logger.LogDebug(ex, "Stopping a stream subscription failed");
        }
    }

    private async Task HeartbeatAsync()
    {
        using var timer = new PeriodicTimer(_options.HeartbeatInterval, services.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(frames.Closing))
            {
                var silent = services.Time.GetElapsedTime(Interlocked.Read(ref _lastHeard));
                if (silent > _options.IdleTimeout)
                {
                    Refuse(Idle, "idle", "idle", $"Nothing received for {(int)silent.TotalSeconds} s; send a ping at least every {(int)_options.IdleTimeout.TotalSeconds} s.");
                    return;
                }
                frames.Send(StreamFrames.Heartbeat(services.Time.GetUtcNow()));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>An error the client reads, then the close.</summary>
    private void Refuse(WebSocketCloseStatus status, string reason, string code, string message, JsonElement? id = null)
    {
        frames.Send(StreamFrames.Error(code, message, id: id));
        frames.RequestClose(status, reason, drain: true);
    }

    private byte[] Welcome() => StreamFrames.Write(w =>
    {
        w.WriteString("type", "welcome");
        w.WriteString("connectionId", http.TraceIdentifier);
        w.WriteNumber("heartbeatSeconds", (int)_options.HeartbeatInterval.TotalSeconds);
        w.WriteNumber("idleTimeoutSeconds", (int)_options.IdleTimeout.TotalSeconds);
        w.WriteStartObject("limits");
        w.WriteNumber("subscriptions", _options.AnonymousSubscriptions);
        w.WriteEndObject();
    });

    private byte[] Authenticated(Caller who, JsonElement? id) => StreamFrames.Write(w =>
    {
        w.WriteString("type", "authenticated");
        w.WriteString("userId", who.UserId);
        w.WriteString("plan", who.Plan);
        w.WriteStartObject("limits");
        w.WriteNumber("connections", services.Limits.ShareOf(who.Limits.StreamConnections));
        w.WriteNumber("subscriptions", who.Limits.StreamSubscriptions);
        w.WriteEndObject();
        StreamFrames.Id(w, id);
    });
}
