using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using QuantTrader.Contracts.MarketData;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// The alert service as two replicas (issue 17): rules split by market partition, each evaluated by one replica,
/// whichever replica stored it; a replica killed or stopped while trades flow hands its partitions over, and the new
/// owner's replay from the checkpoint fires nothing twice — counted in <c>alert_firings</c>, on ALERTS and at the
/// webhook receiver.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class AlertReplicaTests(SystemFixture system)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Rules_on_both_replicas_markets_fire_exactly_once_whichever_replica_stored_them()
    {
        await using var receiver = await EventReceiver.StartAsync();
        await using var extra = await ExtraReplica.StartAsync(system, "alert");
        var (extraPartitions, originalPartitions) = await AlertReplicas.SettledSplitAsync(system, extra);
        var (userId, _, viaGateway) = await system.CreateUserAsync();
        using var viaExtra = await AlertReplicas.DirectClientAsync(extra, userId, viaGateway);

        // Markets owned by each replica, each rule stored by one or the other: all four combinations of who stored it
        // and who evaluates it.
        var rules = new List<(Guid Id, string Symbol)>();
        var owners = new[] { extraPartitions, extraPartitions, originalPartitions, originalPartitions, extraPartitions, extraPartitions, originalPartitions, originalPartitions };
        for (var i = 0; i < owners.Length; i++)
        {
            var symbol = AlertReplicas.SymbolIn(owners[i]);
            var id = await CreateRuleAsync(i % 2 == 0 ? viaGateway : viaExtra, symbol, "price_crosses_above", 100m, "once", receiver.Url);
            rules.Add((id, symbol));
        }

        // 99 sets the side, 101 crosses (fires), 98 then 102 would cross again: each 'once' rule fires one time.
        await using var bus = await MarketBus.ConnectAsync(system);
        var t = DateTimeOffset.UtcNow;
        foreach (var (_, symbol) in rules)
        {
            decimal[] prices = [99m, 101m, 98m, 102m];
            for (var i = 0; i < prices.Length; i++)
            {
                await bus.PublishTradeAsync(new Trade("binance", symbol, i + 1, prices[i], 1m, TakerSide.Buy, t.AddMilliseconds(i)));
            }
        }

        await Eventually.SucceedsAsync(() =>
        {
            Assert.All(rules, r => Assert.Equal(1, receiver.DeliveredFor(r.Id)));
            return Task.CompletedTask;
        }, Wait);
        await AssertEachFiredOnceAsync(userId, rules.Select(r => r.Id), receiver);
    }

    [Fact]
    public async Task A_replica_killed_while_trades_flow_hands_over_and_no_alert_fires_or_calls_its_webhook_twice()
    {
        await using var receiver = await EventReceiver.StartAsync();
        await using var extra = await ExtraReplica.StartAsync(system, "alert");
        var split = await AlertReplicas.SettledSplitAsync(system, extra);
        await using var flow = await TradeFlow.StartAsync(system, split, receiver, CreateRuleAsync);

        // Phase 1 on both replicas: the 'first' and 'level' rules fire; then the extra replica dies (kill -9) at once,
        // its checkpoint up to a second behind, while trades keep coming.
        await flow.MoveToAsync(150m);
        await Eventually.SucceedsAsync(() => flow.DeliveredAsync(receiver, phase: 1), Wait);
        await extra.KillAsync();

        // Phase 2: the 'second' rules fire, the dead replica's on the survivor once its leases lapse, after it has
        // replayed the dead one's last second (recognised: nothing fires or calls a webhook twice).
        await flow.MoveToAsync(250m);
        await Eventually.SucceedsAsync(() => flow.DeliveredAsync(receiver, phase: 2), Wait);
        await flow.StopAsync();
        await flow.AssertEachFiredOnceAsync(receiver);
    }

    [Fact]
    public async Task The_replica_aspire_started_stopped_by_SIGTERM_while_trades_flow_hands_over_and_no_alert_fires_twice()
    {
        await using var receiver = await EventReceiver.StartAsync();
        await using var extra = await ExtraReplica.StartAsync(system, "alert");
        var split = await AlertReplicas.SettledSplitAsync(system, extra);
        await using var flow = await TradeFlow.StartAsync(system, split, receiver, CreateRuleAsync);
        try
        {
            await flow.MoveToAsync(150m);
            // SIGTERM right after the first firings, with trades in flight: the stopping replica finishes its step,
            // checkpoints and releases its partitions; the extra replica takes them over within seconds.
            await Eventually.SucceedsAsync(() => flow.DeliveredAsync(receiver, phase: 1), Wait);
            await ResourceControl.StopAsync(system, "alert");

            await flow.MoveToAsync(250m);
            await Eventually.SucceedsAsync(() => flow.DeliveredAsync(receiver, phase: 2), Wait);
            await flow.StopAsync();
            await flow.AssertEachFiredOnceAsync(receiver);
        }
        finally
        {
            await ResourceControl.StartAsync(system, "alert");
        }
    }

    private async Task AssertEachFiredOnceAsync(Guid userId, IEnumerable<Guid> ruleIds, EventReceiver receiver)
    {
        // Time for a late duplicate (a replay, a second replica) to show before counting.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var firings = await AlertReplicas.FiringsOfAsync(system, userId);
        foreach (var id in ruleIds)
        {
            Assert.Equal((1, 1), firings.GetValueOrDefault(id));
            Assert.Equal(1, receiver.DeliveredFor(id));
        }

        Assert.All(receiver.Deliveries.Values, n => Assert.Equal(1, n));
        Assert.Empty(receiver.Mismatches);
    }

    private static async Task<Guid> CreateRuleAsync(HttpClient client, string symbol, string type, decimal value, string repeat, string webhookUrl)
    {
        using var created = await client.PostAsJsonAsync("/api/v1/alerts", new
        {
            exchange = "binance",
            symbol,
            condition = new { type, value },
            webhookUrl,
            repeat,
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    /// <summary>
    /// Trades every 20 ms on six markets (three in each replica's partitions) around a level the test moves, each
    /// market with its own user and three rules: 'first' (once, crosses above 100), 'level' (every, above 120, no
    /// cooldown: fires when the level first goes above and re-arms only below, so once here) and 'second' (once, crosses
    /// above 200). Moving the level to 150 fires 'first' and 'level'; to 250, 'second'.
    /// </summary>
    private sealed class TradeFlow : IAsyncDisposable
    {
        private readonly List<Market> _markets;
        private readonly MarketBus _bus;
        private readonly SystemFixture _system;
        private readonly CancellationTokenSource _stop = new();
        private Task _running = Task.CompletedTask;
        private long _level = 95;

        private TradeFlow(SystemFixture system, MarketBus bus, List<Market> markets)
        {
            _system = system;
            _bus = bus;
            _markets = markets;
        }

        public static async Task<TradeFlow> StartAsync(SystemFixture system, (IReadOnlySet<int> Extra, IReadOnlySet<int> Original) split,
            EventReceiver receiver, Func<HttpClient, string, string, decimal, string, string, Task<Guid>> create)
        {
            var markets = new List<Market>();
            foreach (var partitions in new[] { split.Extra, split.Extra, split.Extra, split.Original, split.Original, split.Original })
            {
                var symbol = AlertReplicas.SymbolIn(partitions);
                var (userId, _, client) = await system.CreateUserAsync();
                markets.Add(new Market(symbol, userId,
                    first: await create(client, symbol, "price_crosses_above", 100m, "once", receiver.Url),
                    level: await create(client, symbol, "price_above", 120m, "every", receiver.Url),
                    second: await create(client, symbol, "price_crosses_above", 200m, "once", receiver.Url)));
                client.Dispose();
            }

            var flow = new TradeFlow(system, await MarketBus.ConnectAsync(system), markets);
            flow._running = flow.RunAsync();
            return flow;
        }

        /// <summary>Moves the level and waits until every market has traded at it.</summary>
        public async Task MoveToAsync(decimal level)
        {
            Interlocked.Exchange(ref _level, (long)level);
            var marks = _markets.Select(m => m.PublishedCount).ToArray();
            // A tick that began before the move still trades at the old level: two more trades each make sure.
            await Eventually.SucceedsAsync(() =>
            {
                Assert.All(_markets.Zip(marks), m => Assert.True(m.First.PublishedCount > m.Second + 1));
                return Task.CompletedTask;
            }, TimeSpan.FromSeconds(30));
        }

        public Task DeliveredAsync(EventReceiver receiver, int phase)
        {
            foreach (var market in _markets)
            {
                Assert.Equal(1, receiver.DeliveredFor(market.First));
                Assert.Equal(1, receiver.DeliveredFor(market.Level));
                if (phase == 2)
                {
                    Assert.Equal(1, receiver.DeliveredFor(market.Second));
                }
            }

            return Task.CompletedTask;
        }

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            await _running;
        }

        public async Task AssertEachFiredOnceAsync(EventReceiver receiver)
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            foreach (var market in _markets)
            {
                var firings = await AlertReplicas.FiringsOfAsync(_system, market.UserId);
                foreach (var id in new[] { market.First, market.Level, market.Second })
                {
                    Assert.Equal((1, 1), firings.GetValueOrDefault(id));
                    Assert.Equal(1, receiver.DeliveredFor(id));
                }
            }

            Assert.All(receiver.Deliveries.Values, n => Assert.Equal(1, n));
            Assert.Empty(receiver.Mismatches);
        }

        private async Task RunAsync()
        {
            var tick = 0;
            while (!_stop.IsCancellationRequested)
            {
                decimal level = Interlocked.Read(ref _level);
                foreach (var market in _markets)
                {
                    // Around the level, never reaching the next threshold: 0 … 4 above it.
                    var price = level + (tick % 5);
                    await _bus.PublishTradeAsync(new Trade("binance", market.Symbol, market.PublishedCount + 1, price, 1m, TakerSide.Buy, DateTimeOffset.UtcNow));
                    market.Published();
                }

                tick++;
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(20), _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_stop.IsCancellationRequested)
            {
                await StopAsync();
            }

            await _bus.DisposeAsync();
            _stop.Dispose();
        }

        private sealed class Market(string symbol, Guid userId, Guid first, Guid level, Guid second)
        {
            private long _published;

            public string Symbol { get; } = symbol;

            public Guid UserId { get; } = userId;

            public Guid First { get; } = first;

            public Guid Level { get; } = level;

            public Guid Second { get; } = second;

            /// <summary>Trades published so far; the last one's id.</summary>
            public long PublishedCount => Interlocked.Read(ref _published);

            public void Published() => Interlocked.Increment(ref _published);
        }
    }
}
