using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using QuantTrader.Contracts.Messaging;
using static QuantTrader.IntegrationTests.PaperTradingKit;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Issue 17's proof: a system with three NATS nodes and two replicas of every service that holds state, with steady
/// trades from the simulator, resting orders of several users, alert rules and a running strategy, loses one replica of
/// each such service (kill -9, one after another, each time the replica that owns the work at stake) and one NATS
/// node — and afterwards every figure is exact: every trade stored once, closed klines equal to a recomputation from the
/// stored trades, each alert fired once and its webhook taking effect once, every fill once (in the engine, on the bus
/// and in analytics) with balances reconciling to the last decimal, and the strategy saw each kline once.
/// </summary>
[Collection(HighAvailabilityCollection.Name)]
public sealed class FailoverTests(HighAvailabilityFixture system)
{
    private const string Exchange = "okx";
    private const string Symbol = "DOTUSDT";
    /// <summary>A simulator market: steady trades through the ingestor, a kline every minute for the strategy.</summary>
    private const string StrategyExchange = "binance";
    private const string StrategySymbol = "BTCUSDT";
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan Split = TimeSpan.FromSeconds(120);

    /// <summary>The services that hold state, each run here as two replicas (Aspire's and an <see cref="ExtraReplica"/>).</summary>
    private static readonly string[] Stateful = ["ingestor", "kline", "alert", "paper-engine", "strategy-runner", "analytics"];

    [Fact]
    public async Task Killing_one_replica_of_every_stateful_service_and_one_nats_node_loses_nothing_and_does_nothing_twice()
    {
        var start = DateTimeOffset.UtcNow;
        await using var kit = await ConnectAsync(system);
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        await using var hooks = await IdempotentReceiver.StartAsync();

        // Three traders with a resting buy each, and a rule each that fires once when the price falls below 4.6.
        await kit.TradeAsync(Exchange, Symbol, 5m, 1000m);
        var traders = new List<(Guid UserId, HttpClient Client, Guid OrderId, Guid RuleId)>();
        for (var i = 0; i < 3; i++)
        {
            var (userId, _, client) = await system.CreateUserAsync();
            var (status, order) = await PlaceAsync(client, new { exchange = Exchange, symbol = Symbol, side = "buy", type = "limit", quantity = 100m, price = 4.5m });
            Assert.True(status == HttpStatusCode.Created, order.ToString());
            using var rule = await client.PostAsJsonAsync("/api/v1/alerts", new
            {
                exchange = Exchange, symbol = Symbol, condition = new { type = "price_crosses_below", value = 4.6m }, repeat = "once", webhookUrl = hooks.Url,
            });
            Assert.True(rule.IsSuccessStatusCode, await rule.Content.ReadAsStringAsync());
            traders.Add((userId, client, order.GetProperty("id").GetGuid(), (await rule.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid()));
        }

        // A strategy that places one order and writes one log line per closed kline it sees.
        var (strategist, _, strategistClient) = await system.CreateUserAsync();
        var strategy = await StrategyFiles.UploadAndStartAsync(strategistClient, "wat/every-kline.wat", StrategySymbol, "{}");

        var extras = new List<ExtraReplica>();
        var killedOriginals = new List<string>();
        try
        {
            foreach (var service in Stateful)
            {
                extras.Add(await ExtraReplica.StartAsync(system, service));
            }
            foreach (var extra in extras.Where(e => e.Service != "paper-engine"))
            {
                await using var owners = await PartitionOwners.ConnectAsync(system, extra.Service);
                await owners.WaitForSplitAsync(extra.ProcessId, Split);
            }

            // A price above the rules' level that every rule has seen, so that the next print below it is a crossing.
            await kit.TradeAsync(Exchange, Symbol, 5m, 1m);

            // One replica of each dies in turn — the one that owns the work at stake — while trades flow; the prints that
            // cross the rules and fill the orders come between the deaths, so each lands on a hand-over.
            await KillOwnerAsync("kline", Partitions.OfMarket(StrategyExchange, StrategySymbol));
            await kit.TradeAsync(Exchange, Symbol, 4.55m, 10m); // crosses every rule
            await KillOwnerAsync("alert", Partitions.OfMarket(Exchange, Symbol));
            await kit.TradeAsync(Exchange, Symbol, 4.5m, 120m); // fills 100 + 20
            await KillOwnerAsync("paper-engine", 0); // the active engine: the standby takes over
            await kit.TradeAsync(Exchange, Symbol, 4.4m, 100m); // fills 80 + 20, once the standby is active
            await KillOwnerAsync("ingestor", Partitions.OfMarket(StrategyExchange, StrategySymbol));
            await KillOwnerAsync("strategy-runner", Partitions.OfUser(strategist));
            await KillOwnerAsync("analytics", Partitions.OfUser(traders[0].UserId));
            await ResourceControl.KillAsync(system, "nats-2");
            await kit.TradeAsync(Exchange, Symbol, 4.5m, 200m); // fills the last 60
            await ResourceControl.StartAsync(system, "nats-2");
            foreach (var service in killedOriginals)
            {
                await ResourceControl.StartAsync(system, service); // back, as the second replica
            }

            // Every order filled, once per print.
            await Eventually.SucceedsAsync(async () =>
            {
                foreach (var trader in traders)
                {
                    var order = await trader.Client.GetFromJsonAsync<JsonElement>($"/api/v1/orders/{trader.OrderId}");
                    Assert.Equal("filled", order.GetProperty("status").GetString());
                }
            }, Settle, TimeSpan.FromSeconds(1));
        }
        finally
        {
            foreach (var extra in extras)
            {
                await extra.DisposeAsync();
            }
        }

        // fills: one per order and print, on the bus and in analytics, and the balances are what the fills say.
        foreach (var trader in traders)
        {
            var fills = await trader.Client.GetFromJsonAsync<JsonElement>("/api/v1/fills");
            var rows = fills.EnumerateArray().Select(f => (Trade: f.GetProperty("tradeId").GetInt64(), Price: f.GetProperty("price").GetDecimal(),
                Quantity: f.GetProperty("quantity").GetDecimal(), Fee: f.GetProperty("fee").GetDecimal())).ToList();
            Assert.Equal(rows.Count, rows.Select(r => r.Trade).Distinct().Count());
            Assert.Equal(100m, rows.Sum(r => r.Quantity));
            Assert.Equal((ulong)rows.Count, await kit.CountAsync(Subjects.TradingFill(trader.UserId)));
            await Eventually.SucceedsAsync(async () =>
                Assert.Equal(rows.Count, await ScalarAsync(db, "SELECT count(*) FROM analytics_fills WHERE user_id = $1", trader.UserId)), Settle);
            var portfolio = await PortfolioAsync(trader.Client);
            Assert.Equal((100m, 0m), Balance(portfolio, "DOT"));
            Assert.Equal((10_000m - rows.Sum(r => r.Price * r.Quantity) - rows.Sum(r => r.Fee), 0m), Balance(portfolio, "USDT"));
        }

        // alerts: each rule fired once; each firing's webhook took effect once (its idempotency key seen, and every
        // delivery of a key carrying the same firing).
        await Eventually.SucceedsAsync(() =>
        {
            Assert.Equal(traders.Count, hooks.Effects.Count);
            return Task.CompletedTask;
        }, Settle);
        foreach (var trader in traders)
        {
            Assert.Equal(1L, await ScalarAsync(db, "SELECT count(*) FROM alert_firings WHERE alert_id = $1", trader.RuleId));
        }
        Assert.All(hooks.Wire.GroupBy(r => r.HeaderKey), g => Assert.Single(g.Select(r => r.EventId).Distinct()));
        Assert.Equal(traders.Count, hooks.Effects.Values.Distinct().Count());

        // trades: the simulator's markets, stored once each, no id missing since the start.
        await using (var command = db.CreateCommand("""
            SELECT exchange, symbol, count(*), count(DISTINCT trade_id), max(trade_id) - min(trade_id) + 1
            FROM trades WHERE time >= $1 AND symbol IN ('BTCUSDT', 'ETHUSDT', 'SOLUSDT') GROUP BY exchange, symbol
            """))
        {
            command.Parameters.Add(new() { Value = start });
            await using var reader = await command.ExecuteReaderAsync();
            var markets = 0;
            while (await reader.ReadAsync())
            {
                markets++;
                var (market, stored, distinct, span) = ($"{reader.GetString(0)}:{reader.GetString(1)}", reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4));
                Assert.True(stored == distinct, $"{market}: {stored - distinct} trades stored twice");
                Assert.True(stored == span, $"{market}: {span - stored} trade ids missing");
            }
            Assert.True(markets >= 3, "the simulator's markets traded during the test");
        }

        // klines: every closed 1m kline of those markets since the first full minute equals the recomputation (a minute
        // still within the kline service's allowed lateness may be amended yet, so the last two are left out).
        var end = DateTimeOffset.UtcNow;
        var mismatches = await ScalarAsync(db, """
            WITH recomputed AS (
                SELECT exchange, symbol, date_trunc('minute', time) AS open_time,
                       (array_agg(price ORDER BY time, trade_id))[1] AS open, max(price) AS high, min(price) AS low,
                       (array_agg(price ORDER BY time DESC, trade_id DESC))[1] AS close, sum(quantity) AS volume
                FROM trades WHERE time >= date_trunc('minute', $1::timestamptz) + interval '1 minute'
                  AND time < date_trunc('minute', $2::timestamptz) - interval '1 minute' AND symbol IN ('BTCUSDT', 'ETHUSDT', 'SOLUSDT')
                GROUP BY 1, 2, 3)
            SELECT count(*) FROM recomputed r
            LEFT JOIN klines k ON k.exchange = r.exchange AND k.symbol = r.symbol AND k.interval = '1m' AND k.open_time = r.open_time AND k.closed
            WHERE k.open IS DISTINCT FROM r.open OR k.high IS DISTINCT FROM r.high OR k.low IS DISTINCT FROM r.low
               OR k.close IS DISTINCT FROM r.close OR k.volume IS DISTINCT FROM r.volume
            """, start, end);
        Assert.Equal(0L, mismatches);

        // the strategy: one step per closed kline of its market, none missed between its first and its last, none twice
        // (each step's order is named by its kline's open time; each step writes one log line).
        var seen = await Eventually.ReturnsAsync(async () =>
        {
            var steps = await StrategyStepsAsync(db, strategy);
            return steps.Count > 0 && steps[^1] >= end.AddMinutes(-2) ? steps : null;
        }, Settle, "the strategy saw the klines up to the end of the test");
        Assert.Equal(seen.Count, seen.Distinct().Count());
        var closed = await KlineOpenTimesAsync(db, seen[0], seen[^1]);
        Assert.Equal(closed, seen);
        Assert.Equal(seen.Count, await ScalarAsync(db, "SELECT count(*) FROM strategy_logs WHERE strategy_id = $1 AND message = 'every-kline: kline'", strategy));

        ExtraReplica Extra(string service) => extras.Single(e => e.Service == service);

        // kill -9 of whichever replica owns the partition now; Aspire's own is started again later.
        async Task KillOwnerAsync(string service, int partition)
        {
            await using var owners = await PartitionOwners.ConnectAsync(system, service);
            var owner = await Eventually.ReturnsAsync(async () => (await owners.ReadAsync()).GetValueOrDefault(partition), Split,
                $"an owner of {service}'s partition {partition}");
            if (PartitionOwners.IsProcess(owner, Extra(service).ProcessId))
            {
                await Extra(service).KillAsync();
            }
            else
            {
                await ResourceControl.KillAsync(system, service);
                killedOriginals.Add(service);
            }
        }
    }

    private static async Task<List<DateTimeOffset>> StrategyStepsAsync(NpgsqlDataSource db, Guid strategy)
    {
        await using var command = db.CreateCommand("SELECT client_order_id FROM strategy_orders WHERE strategy_id = $1");
        command.Parameters.Add(new() { Value = strategy });
        await using var reader = await command.ExecuteReaderAsync();
        var steps = new List<DateTimeOffset>();
        while (await reader.ReadAsync())
        {
            // {strategy:N}-k{openTimeMs}-{index}
            var id = reader.GetString(0);
            var kline = id[(id.IndexOf("-k", StringComparison.Ordinal) + 2)..id.LastIndexOf('-')];
            steps.Add(DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(kline, System.Globalization.CultureInfo.InvariantCulture)));
        }
        steps.Sort();
        return steps;
    }

    private static async Task<List<DateTimeOffset>> KlineOpenTimesAsync(NpgsqlDataSource db, DateTimeOffset from, DateTimeOffset to)
    {
        await using var command = db.CreateCommand("""
            SELECT open_time FROM klines WHERE exchange = $1 AND symbol = $2 AND interval = '1m' AND closed
              AND open_time BETWEEN $3 AND $4 ORDER BY open_time
            """);
        command.Parameters.Add(new() { Value = StrategyExchange });
        command.Parameters.Add(new() { Value = StrategySymbol });
        command.Parameters.Add(new() { Value = from });
        command.Parameters.Add(new() { Value = to });
        await using var reader = await command.ExecuteReaderAsync();
        var times = new List<DateTimeOffset>();
        while (await reader.ReadAsync())
        {
            times.Add(reader.GetFieldValue<DateTimeOffset>(0));
        }
        return times;
    }

    private static async Task<long> ScalarAsync(NpgsqlDataSource db, string sql, params object[] parameters)
    {
        await using var command = db.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new() { Value = parameter });
        }
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
