using System.Text.Json;
using NATS.Client.Core;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.Gateway.Streaming;

/// <summary>
/// The public channels: one core NATS subscription per channel and gateway replica, however many connections hold
/// it, and each message encoded once and queued to every subscriber. Trades come from <c>market.raw</c> (the exact
/// subject, partition included), candles from <c>market.candle</c> (open-kline updates, core NATS) and
/// <c>market.kline</c> (closed klines, as JetStream stores them). Live data only: a core subscription has no
/// history, which is what a live chart wants; history is REST's.
/// </summary>
public sealed class MarketFeeds(INatsConnection nats, ILogger<MarketFeeds> logger) : IAsyncDisposable
{
    /// <summary>Marks klines built from imported history (the kline service's KlineSources): never live.</summary>
    private const string SourceHeader = "QuantTrader-Source";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);

    private readonly Dictionary<string, Feed> _feeds = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    public int Channels => _feeds.Count;

    /// <summary>
    /// Adds the connection to the channel's subscribers. <paramref name="subscribed"/> is queued to it at the moment it
    /// joins, so every data frame it receives for the channel comes after it.
    /// </summary>
    public async Task<IAsyncDisposable> JoinAsync(StreamChannel channel, OutboundFrames connection, byte[] subscribed, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (!_feeds.TryGetValue(channel.Name, out var feed))
            {
                // Bounded: every other first subscription waits behind this one.
                using var start = CancellationTokenSource.CreateLinkedTokenSource(ct);
                start.CancelAfter(StartTimeout);
                feed = await Feed.StartAsync(channel, nats, logger, start.Token);
                _feeds.Add(channel.Name, feed);
            }
            feed.Add(connection, subscribed);
            return new Membership(this, feed, connection);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task LeaveAsync(Feed feed, OutboundFrames connection)
    {
        await _gate.WaitAsync();
        try
        {
            if (feed.Remove(connection) == 0 && _feeds.Remove(feed.Channel.Name))
            {
                await feed.DisposeAsync();
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var feed in _feeds.Values)
        {
            await feed.DisposeAsync();
        }
        _feeds.Clear();
    }

    private sealed class Membership(MarketFeeds feeds, Feed feed, OutboundFrames connection) : IAsyncDisposable
    {
        private int _left;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0)
            {
                await feeds.LeaveAsync(feed, connection);
            }
        }
    }

    private sealed class Feed : IAsyncDisposable
    {
        private readonly Lock _lock = new();
        private readonly List<INatsSub<byte[]>> _subscriptions = [];
        private readonly List<Task> _pumps = [];
        private readonly ILogger _logger;
        private OutboundFrames[] _connections = [];

        private Feed(StreamChannel channel, ILogger logger)
        {
            Channel = channel;
            _logger = logger;
        }

        public StreamChannel Channel { get; }

        public static async Task<Feed> StartAsync(StreamChannel channel, INatsConnection nats, ILogger logger, CancellationToken ct)
        {
            var feed = new Feed(channel, logger);
            string[] subjects = channel.Kind == ChannelKind.Trades
                ? [Subjects.MarketRaw(channel.Exchange, channel.Symbol)]
                : [Subjects.MarketCandle(channel.Exchange, channel.Interval, channel.Symbol), Subjects.MarketKline(channel.Exchange, channel.Interval, channel.Symbol)];
            try
            {
                foreach (var subject in subjects)
                {
                    var subscription = await nats.SubscribeCoreAsync<byte[]>(subject, cancellationToken: ct);
                    feed._subscriptions.Add(subscription);
                    feed._pumps.Add(Task.Run(() => feed.PumpAsync(subscription)));
                }
                // The server has the subscriptions once it answers a ping sent after them: what is published after
                // `subscribed` reaches the client.
                await nats.PingAsync(ct);
            }
            catch
            {
                await feed.DisposeAsync();
                throw;
            }
            return feed;
        }

        public void Add(OutboundFrames connection, byte[] subscribed)
        {
            lock (_lock)
            {
                connection.Send(subscribed);
                _connections = [.. _connections, connection];
            }
        }

        public int Remove(OutboundFrames connection)
        {
            lock (_lock)
            {
                _connections = [.. _connections.Where(c => c != connection)];
                return _connections.Length;
            }
        }

        private async Task PumpAsync(INatsSub<byte[]> subscription)
        {
            await foreach (var message in subscription.Msgs.ReadAllAsync())
            {
                byte[]? frame;
                try
                {
                    frame = Encode(message);
                }
                catch (JsonException ex)
                {
                    _logger.LogWarning(ex, "Skipping an unreadable message on {Subject}", message.Subject);
                    continue;
                }
                if (frame is null)
                {
                    continue;
                }
                foreach (var connection in Volatile.Read(ref _connections))
                {
                    connection.Send(frame);
                }
            }
        }

        private byte[]? Encode(NatsMsg<byte[]> message)
        {
            var data = message.Data;
            if (data is null || data.Length == 0)
            {
                return null;
            }
            if (Channel.Kind == ChannelKind.Trades)
            {
                var trades = TradeMessages.Decode(data);
                return trades.Length == 0 ? null : StreamFrames.Data("trades", Channel.Name, null, JsonSerializer.SerializeToUtf8Bytes(trades, ContractsJsonContext.Wire.TradeArray));
            }
            if (message.Headers is { } headers && headers.TryGetValue(SourceHeader, out var source) && source == "history")
            {
                return null;
            }
            // The kline service writes the contract's wire JSON (the REST shape); it is passed on as it is.
            using var kline = JsonDocument.Parse(data);
            return kline.RootElement.ValueKind == JsonValueKind.Object ? StreamFrames.Data("candle", Channel.Name, null, data) : null;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var subscription in _subscriptions)
            {
                await subscription.DisposeAsync();
            }
            await Task.WhenAll(_pumps);
        }
    }
}
