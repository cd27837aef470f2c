using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;
using NATS.Net;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// The kline service as two replicas splitting the 16 market partitions (docs/klines.md, "Partitions"): trades of one
/// market in every partition, so both replicas aggregate some. Closed klines are compared with a recomputation from the
/// trades, and every closed kline must be stored in MARKET_KLINE exactly once — also when a replica is killed or stopped
/// while the trades flow and its partitions move to the other, which replays them from their checkpoints. The trades lie
/// a few minutes in the future (as in <see cref="KlineTests"/>), so only trades close windows, never the wall clock.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class KlineReplicaTests(SystemFixture system)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);
    private const int Minutes = 4;
    private const int TradesPerMinute = 10;

    [Fact]
    public async Task Two_replicas_split_the_partitions_and_each_closed_kline_is_published_once_equal_to_a_recomputation_from_the_trades()
    {
        await using var bus = await MarketBus.ConnectAsync(system);
        var original = await ResourceControl.ServiceProcessIdAsync(system, "kline");
        await using var replica = await ExtraReplica.StartAsync(system, "kline");
        var split = await WaitForOwnersAsync(bus, Split, "both replicas owning partitions");
        Assert.Contains(split.Values, owner => OwnedBy(replica.ProcessId)(owner));
        Assert.Contains(split.Values, owner => OwnedBy(original)(owner));

        var market = Market.OnePerPartition();
        await market.PublishAsync(bus, from: 0, to: Minutes);
        await market.PublishClosersAsync(bus);

        await market.AssertClosedOnceAndEqualToTheTradesAsync(bus);
    }

    [Fact]
    public async Task A_replica_killed_mid_stream_has_its_partitions_taken_over_and_each_closed_kline_is_still_published_once_and_right()
    {
        await using var bus = await MarketBus.ConnectAsync(system);
        var original = await ResourceControl.ServiceProcessIdAsync(system, "kline");
        await using var replica = await ExtraReplica.StartAsync(system, "kline");
        var split = await WaitForOwnersAsync(bus, Split, "both replicas owning partitions");
        var moved = split.Where(o => OwnedBy(replica.ProcessId)(o.Value)).Select(o => o.Key).ToArray();
        Assert.NotEmpty(moved);

        var market = Market.OnePerPartition();
        await market.PublishAsync(bus, from: 0, to: Minutes / 2);
        // kill -9 while the trades still flow: no drain, no checkpoint, no release; its leases lapse.
        var killing = replica.KillAsync();
        await market.PublishAsync(bus, from: Minutes / 2, to: Minutes);
        await killing;

        // Hand-over: the partitions of the dead replica now belong to the survivor, which replays them from their checkpoints.
        var after = await WaitForOwnersAsync(bus, owners => owners.Count == Partitions.Count && owners.Values.All(OwnedBy(original)), "the survivor owning every partition");
        Assert.All(moved, p => Assert.True(OwnedBy(original)(after[p])));

        await market.PublishClosersAsync(bus);
        await market.AssertClosedOnceAndEqualToTheTradesAsync(bus);
    }

    [Fact]
    public async Task A_replica_stopped_mid_stream_hands_its_partitions_over_and_each_closed_kline_is_still_published_once_and_right()
    {
        await using var bus = await MarketBus.ConnectAsync(system);
        var original = await ResourceControl.ServiceProcessIdAsync(system, "kline");
        await using var replica = await ExtraReplica.StartAsync(system, "kline");
        try
        {
            var split = await WaitForOwnersAsync(bus, Split, "both replicas owning partitions");
            var moved = split.Where(o => OwnedBy(original)(o.Value)).Select(o => o.Key).ToArray();
            Assert.NotEmpty(moved);

            var market = Market.OnePerPartition();
            await market.PublishAsync(bus, from: 0, to: Minutes / 2);
            // SIGTERM, as a rolling update: the Aspire-started replica drains, checkpoints and releases its partitions.
            var stopping = ResourceControl.StopAsync(system, "kline");
            await market.PublishAsync(bus, from: Minutes / 2, to: Minutes);
            await stopping;

            var after = await WaitForOwnersAsync(bus, owners => owners.Count == Partitions.Count && owners.Values.All(OwnedBy(replica.ProcessId)),
                "the remaining replica owning every partition");
            Assert.All(moved, p => Assert.True(OwnedBy(replica.ProcessId)(after[p])));

            await market.PublishClosersAsync(bus);
            await market.AssertClosedOnceAndEqualToTheTradesAsync(bus);
        }
        finally
        {
            // Whatever happened, leave the shared system with its own kline service running.
            await ResourceControl.StartAsync(system, "kline");
        }
    }

    /// <summary>Lease holders (partition → instance) from the service's lease bucket, once they satisfy <paramref name="done"/>.</summary>
    private static async Task<Dictionary<int, string>> WaitForOwnersAsync(MarketBus bus, Func<Dictionary<int, string>, bool> done, string what)
    {
        var kv = bus.Js.CreateKeyValueStoreContext();
        return await Eventually.ReturnsAsync(async () =>
        {
            var store = await kv.GetStoreAsync("LEASES_KLINE");
            var owners = new Dictionary<int, string>();
            await foreach (var key in store.GetKeysAsync(["lease.*"]))
            {
                try
                {
                    var entry = await store.GetEntryAsync<string>(key);
                    if (entry.Value is { } owner)
                    {
                        owners[int.Parse(key["lease.".Length..], System.Globalization.CultureInfo.InvariantCulture)] = owner;
                    }
                }
                catch (NatsKVKeyDeletedException)
                {
                    // released just now
                }
                catch (NatsKVKeyNotFoundException)
                {
                    // lapsed just now
                }
            }
            return done(owners) ? owners : null;
        }, Wait, what);
    }

    /// <summary>Every partition held, by two replicas.</summary>
    private static bool Split(Dictionary<int, string> owners) => owners.Count == Partitions.Count && owners.Values.Distinct().Count() == 2;

    /// <summary>A lease holder's instance name is "{host}-{pid}-{suffix}" (PartitionLeases.Instance).</summary>
    private static Func<string, bool> OwnedBy(int processId) => instance => instance.Contains($"-{processId}-", StringComparison.Ordinal);

    /// <summary>One new market in each partition and the trades sent for it.</summary>
    private sealed class Market
    {
        private readonly DateTimeOffset _window = new DateTimeOffset(DateTimeOffset.UtcNow.Ticks / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute, TimeSpan.Zero).AddMinutes(5);
        private readonly Dictionary<string, List<Trade>> _trades = [];

        private Market(IEnumerable<string> symbols)
        {
            foreach (var symbol in symbols)
            {
                _trades[symbol] = [];
            }
        }

        public static Market OnePerPartition()
        {
            var symbols = new Dictionary<int, string>();
            while (symbols.Count < Partitions.Count)
            {
                var symbol = MarketBus.NewSymbol();
                symbols.TryAdd(Partitions.OfMarket("binance", symbol), symbol);
            }
            return new Market(symbols.Values);
        }

        /// <summary>The trades of minutes [from, to) of every market, interleaved across markets as a feed would.</summary>
        public async Task PublishAsync(MarketBus bus, int from, int to)
        {
            for (var minute = from; minute < to; minute++)
            {
                for (var i = 0; i < TradesPerMinute; i++)
                {
                    var time = _window.AddMinutes(minute).AddSeconds(i * 60 / TradesPerMinute + 1);
                    foreach (var (symbol, trades) in _trades)
                    {
                        var id = trades.Count + 1;
                        var price = 100m + (id * 7 % 13) - (minute * 3) + (symbol[1] % 5);
                        var trade = new Trade("binance", symbol, id, price, 0.5m + (id % 4), id % 3 == 0 ? TakerSide.Sell : TakerSide.Buy, time, Count: 1 + id % 2);
                        trades.Add(trade);
                        await bus.PublishTradeAsync(trade);
                    }
                }
            }
        }

        /// <summary>One trade per market in the minute after the last: it closes that minute's kline.</summary>
        public Task PublishClosersAsync(MarketBus bus) => PublishAsync(bus, from: Minutes, to: Minutes + 1);

        public async Task AssertClosedOnceAndEqualToTheTradesAsync(MarketBus bus)
        {
            using var cts = new CancellationTokenSource(Wait * 2);
            foreach (var (symbol, trades) in _trades)
            {
                // The last minute's close comes after every earlier message of the partition (one consumer, in stream
                // order), so once it is there any replayed close has been published, too.
                await Eventually.ReturnsAsync(async () =>
                    (await ClosedAsync(bus, symbol, cts.Token)).Any(k => k.Kline.Interval == "1m" && k.Kline.OpenTime == _window.AddMinutes(Minutes - 1)) ? symbol : null,
                    Wait, $"the last closed 1m kline of {symbol}");

                var closed = await ClosedAsync(bus, symbol, cts.Token);
                var twice = closed.GroupBy(k => (k.Subject, k.Kline.OpenTime)).Where(g => g.Count() > 1).Select(g => $"{g.Key.Subject} {g.Key.OpenTime:HH:mm}").ToArray();
                Assert.True(twice.Length == 0, $"closed klines stored more than once: {string.Join(", ", twice)}");

                var expected = Recompute(trades.Where(t => t.Time < _window.AddMinutes(Minutes)));
                var actual = closed.Where(k => k.Kline.Interval == "1m").Select(k => k.Kline).OrderBy(k => k.OpenTime).ToList();
                Assert.Equal(expected, actual);
            }
        }

        /// <summary>The closed 1m klines of these trades, computed here from scratch (Binance's kline fields).</summary>
        private static List<Kline> Recompute(IEnumerable<Trade> trades) =>
        [
            .. trades.GroupBy(t => new DateTimeOffset(t.Time.Ticks / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute, TimeSpan.Zero))
                .OrderBy(g => g.Key)
                .Select(g =>
                {
                    var ordered = g.OrderBy(t => t.TradeId).ToList();
                    var buys = ordered.Where(t => t.Side == TakerSide.Buy).ToList();
                    return new Kline("binance", ordered[0].Symbol, "1m", g.Key, g.Key.AddMinutes(1).AddMilliseconds(-1),
                        ordered[0].Price, ordered.Max(t => t.Price), ordered.Min(t => t.Price), ordered[^1].Price,
                        ordered.Sum(t => t.Quantity), ordered.Sum(t => t.Price * t.Quantity), ordered.Sum(t => (long)t.Count),
                        buys.Sum(t => t.Quantity), buys.Sum(t => t.Price * t.Quantity), Closed: true);
                }),
        ];

        /// <summary>Every closed kline of a market stored in MARKET_KLINE (all intervals), duplicates included.</summary>
        private static async Task<List<(string Subject, Kline Kline)>> ClosedAsync(MarketBus bus, string symbol, CancellationToken ct)
        {
            var stream = Streams.MarketKline().Name!;
            var name = $"test-{Guid.NewGuid():N}";
            var consumer = await bus.Js.CreateOrUpdateConsumerAsync(stream, new ConsumerConfig(name)
            {
                // The one filter subject NATS 2.9 honours: this market, every interval.
                FilterSubject = $"market.kline.binance.*.{symbol}.{Partitions.OfMarket("binance", symbol)}",
                DeliverPolicy = ConsumerConfigDeliverPolicy.All,
                AckPolicy = ConsumerConfigAckPolicy.None,
                InactiveThreshold = TimeSpan.FromMinutes(1),
            }, ct);
            var klines = new List<(string, Kline)>();
            try
            {
                var pending = consumer.Info.NumPending;
                while ((ulong)klines.Count < pending)
                {
                    await foreach (var msg in consumer.FetchNoWaitAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 1000 }, cancellationToken: ct))
                    {
                        klines.Add((msg.Subject, JsonSerializer.Deserialize(msg.Data!, ContractsJsonContext.Wire.Kline)!));
                    }
                }
            }
            finally
            {
                await bus.Js.DeleteConsumerAsync(stream, name, CancellationToken.None);
            }
            return [.. klines.Where(k => k.Item2.Closed)];
        }
    }
}
