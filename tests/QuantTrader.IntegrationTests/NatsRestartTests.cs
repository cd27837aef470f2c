using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using QuantTrader.Contracts.Messaging;
using static QuantTrader.IntegrationTests.PaperTradingKit;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Restarting NATS disturbs every service at once (every connection drops, every consumer is cut off), so these tests
/// run on a system of their own, never on the one the other collections share, and never alongside them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NatsRestartCollection : ICollectionFixture<SystemFixture>
{
    public const string Name = "nats restart";
}

/// <summary>The <c>nats</c> resource (nats-server with a JetStream file store) stopped and started under the running system.</summary>
[Collection(NatsRestartCollection.Name)]
public sealed class NatsRestartTests(SystemFixture system)
{
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData(true)]  // SIGTERM: the server tells its clients it shuts down (409 Server Shutdown to pull consumers)
    [InlineData(false)] // SIGKILL: nothing is said; clients notice by a dropped connection and missing heartbeats
    public async Task After_a_NATS_restart_orders_accepted_before_are_matched_fills_are_published_once_and_every_trade_is_stored_once(bool graceful)
    {
        await using var kit = await ConnectAsync(system);
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        var (userId, _, client) = await system.CreateUserAsync();
        var symbol = $"T{Guid.NewGuid().ToString("N")[..10].ToUpperInvariant()}USDT"; // only this test's trades, for the stored count

        await kit.TradeAsync("binance", "LTCUSDT", 80m, 1m);
        var (status, order) = await PlaceAsync(client, new { exchange = "binance", symbol = "LTCUSDT", side = "buy", type = "limit", quantity = 0.25m, price = 79m });
        Assert.Equal(HttpStatusCode.Created, status);
        var orderId = order.GetProperty("id").GetGuid();

        // Trades published just before the stop: persistence may or may not have stored them when NATS goes away.
        var published = new List<long>();
        for (var i = 0; i < 20; i++)
        {
            published.Add((await kit.TradeAsync("binance", symbol, 100m + i, 1m)).TradeId);
        }

        // A strategy running before the restart, whose klines only come after it.
        var strategySymbol = StrategyFiles.UniqueSymbol();
        var strategyId = await StrategyFiles.UploadAndStartAsync(client, "wat/buy-and-hold.wat", strategySymbol, "{}");

        var stoppedAt = DateTimeOffset.UtcNow;
        await (graceful ? ResourceControl.StopAsync(system, "nats") : ResourceControl.KillAsync(system, "nats"));
        await ResourceControl.StartAsync(system, "nats");

        // The test's own connection reconnects like the services' do; publishing waits for it.
        await Eventually.SucceedsAsync(async () =>
            published.Add((await kit.TradeAsync("binance", symbol, 200m, 1m)).TradeId), Recovery);
        for (var i = 1; i < 20; i++)
        {
            published.Add((await kit.TradeAsync("binance", symbol, 200m + i, 1m)).TradeId);
        }

        // The strategy runner's kline consumer and its order path came back: the first closed kline makes it buy.
        await using (var market = await MarketAndEngine.StartAsync(system))
        {
            await market.PublishClosedKlinesAsync(strategySymbol, [100m], DateTimeOffset.UtcNow.AddMinutes(-5));
            await Eventually.SucceedsAsync(() =>
            {
                Assert.Equal(userId, Assert.Single(market.RequestsFor(strategyId)).UserId);
                return Task.CompletedTask;
            }, Recovery);
        }

        // The order accepted before the restart is still in the engine's book and fills on a print after it, once,
        // even when that print is delivered twice.
        var print = await kit.TradeAsync("binance", "LTCUSDT", 78m, 1m);
        await kit.TradeAsync("binance", "LTCUSDT", print.Price, print.Quantity, print.TradeId, redelivery: true);
        var fill = Assert.Single(await ReadWithinAsync(kit, Subjects.TradingFill(userId)));
        Assert.Equal((orderId, 79m, 0.25m), (fill.OrderId, fill.Price, fill.Quantity));
        await Eventually.SucceedsAsync(async () =>
            Assert.Equal("filled", (await client.GetFromJsonAsync<JsonElement>($"/api/v1/orders/{orderId}")).GetProperty("status").GetString()), Recovery);
        Assert.Single((await client.GetFromJsonAsync<JsonElement>("/api/v1/fills")).EnumerateArray());
        Assert.Equal(1UL, await kit.CountAsync(Subjects.TradingFill(userId)));

        // Persistence stored every trade published around the restart, each once.
        await Eventually.SucceedsAsync(async () =>
            Assert.Equal(published.Count, await CountAsync(db, "SELECT count(*) FROM trades WHERE exchange = 'binance' AND symbol = $1", symbol)), Recovery);
        Assert.Equal(published.Count, await CountAsync(db, "SELECT count(DISTINCT trade_id) FROM trades WHERE exchange = 'binance' AND symbol = $1 AND trade_id = ANY($2)", symbol, published.ToArray()));
        // And the stored fill, through the TRADING consumer of persistence.
        await Eventually.SucceedsAsync(async () =>
            Assert.Equal(1L, await CountAsync(db, "SELECT count(*) FROM fills WHERE order_id = $1", orderId)), Recovery);

        // The live path recovered by itself too: the simulator's trades flow through the ingestor into storage again.
        await Eventually.SucceedsAsync(async () =>
            Assert.True(await CountAsync(db, "SELECT count(*) FROM trades WHERE exchange = 'binance' AND symbol = 'BTCUSDT' AND time > $1", stoppedAt.AddSeconds(5)) > 0,
                "no simulator trade stored since NATS came back"), Recovery);
        // And through the kline service: a kline window opened after the restart is stored (the next minute's, at the latest).
        await Eventually.SucceedsAsync(async () =>
            Assert.True(await CountAsync(db, "SELECT count(*) FROM klines WHERE exchange = 'binance' AND symbol = 'BTCUSDT' AND open_time > $1", stoppedAt) > 0,
                "no kline opened since NATS came back is stored"), Recovery);
    }

    private static async Task<List<Contracts.Trading.FillEvent>> ReadWithinAsync(PaperTradingKit kit, string subject)
    {
        // After a restart the engine's outbox may wait for its reconnect: a longer wait than the kit's default.
        await Eventually.SucceedsAsync(async () => Assert.True(await kit.CountAsync(subject) >= 1, $"{subject}: no fill"), Recovery);
        return await kit.ReadAsync(subject, 1, ContractsJsonContext.Wire.FillEvent);
    }

    private static async Task<long> CountAsync(NpgsqlDataSource db, string sql, params object[] args)
    {
        await using var command = db.CreateCommand(sql);
        foreach (var a in args)
        {
            command.Parameters.Add(new() { Value = a });
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
