using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Npgsql;
using static QuantTrader.IntegrationTests.PaperTradingKit;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Issue 17's proof: a system with three NATS nodes and two replicas of every service that holds state, with steady
/// trades from the simulator, resting orders of several users and alert rules, loses one replica of each such service
/// (kill -9, one after another) and one NATS node — and afterwards every figure is exact: every trade stored once,
/// closed klines equal to a recomputation from the stored trades, each alert fired and delivered once, every fill once
/// and balances reconciling with the fills to the last decimal.
/// </summary>
[Collection(HighAvailabilityCollection.Name)]
public sealed class FailoverTests(HighAvailabilityFixture system)
{
    private const string Exchange = "okx";
    private const string Symbol = "DOTUSDT";
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(120);

    /// <summary>The services that hold state, each run here as two replicas (Aspire's and an <see cref="ExtraReplica"/>).</summary>
    private static readonly string[] Stateful = ["ingestor", "kline", "alert", "paper-engine", "strategy-runner", "analytics"];

    [Fact]
    public async Task Killing_one_replica_of_every_stateful_service_and_one_nats_node_loses_nothing_and_does_nothing_twice()
    {
        var start = DateTimeOffset.UtcNow;
        await using var kit = await ConnectAsync(system);
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        await using var hooks = await HookReceiver.StartAsync();

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

        var extras = new List<ExtraReplica>();
        try
        {
            foreach (var service in Stateful)
            {
                extras.Add(await ExtraReplica.StartAsync(system, service));
            }

            // One replica of each dies in turn while trades flow; prints that cross the rules and fill the orders come
            // between the deaths, so each lands on a hand-over.
            await Extra("kline").KillAsync();
            await kit.TradeAsync(Exchange, Symbol, 4.55m, 10m); // crosses every rule
            await Extra("alert").KillAsync();
            await kit.TradeAsync(Exchange, Symbol, 4.5m, 120m); // fills 100 + 20
            await ResourceControl.KillAsync(system, "paper-engine"); // the active engine: the standby takes over
            await kit.TradeAsync(Exchange, Symbol, 4.4m, 100m); // fills 80 + 20, once the standby is active
            await Extra("ingestor").KillAsync();
            await Extra("strategy-runner").KillAsync();
            await Extra("analytics").KillAsync();
            await ResourceControl.KillAsync(system, "nats-2");
            await kit.TradeAsync(Exchange, Symbol, 4.5m, 200m); // fills the last 60
            await ResourceControl.StartAsync(system, "nats-2");
            await ResourceControl.StartAsync(system, "paper-engine"); // back, as a standby

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

        // fills: one per order and print, and the balances are what the fills say, to the last decimal.
        foreach (var trader in traders)
        {
            var fills = await trader.Client.GetFromJsonAsync<JsonElement>("/api/v1/fills");
            var rows = fills.EnumerateArray().Select(f => (Trade: f.GetProperty("tradeId").GetInt64(), Price: f.GetProperty("price").GetDecimal(),
                Quantity: f.GetProperty("quantity").GetDecimal(), Fee: f.GetProperty("fee").GetDecimal())).ToList();
            Assert.Equal(rows.Count, rows.Select(r => r.Trade).Distinct().Count());
            Assert.Equal(100m, rows.Sum(r => r.Quantity));
            Assert.Equal((ulong)rows.Count, await kit.CountAsync(QuantTrader.Contracts.Messaging.Subjects.TradingFill(trader.UserId)));
            var portfolio = await PortfolioAsync(trader.Client);
            Assert.Equal((100m, 0m), Balance(portfolio, "DOT"));
            Assert.Equal((10_000m - rows.Sum(r => r.Price * r.Quantity) - rows.Sum(r => r.Fee), 0m), Balance(portfolio, "USDT"));
        }

        // alerts: each rule fired once, each firing delivered once.
        await Eventually.SucceedsAsync(() =>
        {
            Assert.Equal(traders.Count, hooks.Deliveries.Select(d => d.EventId).Distinct().Count());
            return Task.CompletedTask;
        }, Settle);
        foreach (var trader in traders)
        {
            Assert.Equal(1L, await ScalarAsync(db, "SELECT count(*) FROM alert_firings WHERE alert_id = $1", trader.RuleId));
        }
        Assert.All(hooks.Deliveries.GroupBy(d => d.EventId), g => Assert.Single(g));

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

        // klines: every closed 1m kline of those markets since the first full minute equals the recomputation.
        var mismatches = await ScalarAsync(db, """
            WITH recomputed AS (
                SELECT exchange, symbol, date_trunc('minute', time) AS open_time,
                       (array_agg(price ORDER BY time, trade_id))[1] AS open, max(price) AS high, min(price) AS low,
                       (array_agg(price ORDER BY time DESC, trade_id DESC))[1] AS close, sum(quantity) AS volume
                FROM trades WHERE time >= date_trunc('minute', $1::timestamptz) + interval '1 minute'
                  AND time < date_trunc('minute', now()) - interval '1 minute' AND symbol IN ('BTCUSDT', 'ETHUSDT', 'SOLUSDT')
                GROUP BY 1, 2, 3)
            SELECT count(*) FROM recomputed r
            LEFT JOIN klines k ON k.exchange = r.exchange AND k.symbol = r.symbol AND k.interval = '1m' AND k.open_time = r.open_time AND k.closed
            WHERE k.open IS DISTINCT FROM r.open OR k.high IS DISTINCT FROM r.high OR k.low IS DISTINCT FROM r.low
               OR k.close IS DISTINCT FROM r.close OR k.volume IS DISTINCT FROM r.volume
            """, start);
        Assert.Equal(0L, mismatches);

        ExtraReplica Extra(string service) => extras.Single(e => e.Service == service);
    }

    private static async Task<long> ScalarAsync(NpgsqlDataSource db, string sql, object parameter)
    {
        await using var command = db.CreateCommand(sql);
        command.Parameters.Add(new() { Value = parameter });
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A webhook receiver that counts every delivery by its event id.</summary>
    private sealed class HookReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private HookReceiver(WebApplication app) => _app = app;

        public ConcurrentQueue<(Guid EventId, DateTimeOffset At)> Deliveries { get; } = new();

        public string Url => _app.Urls.First() + "/hook";

        public static async Task<HookReceiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var receiver = new HookReceiver(app);
            app.MapPost("/hook", async (HttpRequest request) =>
            {
                var body = await JsonSerializer.DeserializeAsync<JsonElement>(request.Body);
                receiver.Deliveries.Enqueue((body.GetProperty("eventId").GetGuid(), DateTimeOffset.UtcNow));
                return Results.Ok();
            });
            await app.StartAsync();
            return receiver;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
