using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;
using static QuantTrader.IntegrationTests.PaperTradingKit;

namespace QuantTrader.IntegrationTests;

/// <summary>Crashes and outages: the paper engine killed with SIGKILL, the risk manager gone.</summary>
[Collection(SystemCollection.Name)]
public sealed class PaperTradingRestartTests(SystemFixture system)
{
    [Fact]
    public async Task After_kill_9_of_the_paper_engine_open_orders_and_balances_are_back_and_a_later_trade_fills_exactly_once()
    {
        await using var kit = await ConnectAsync(system);
        var (userId, _, client) = await system.CreateUserAsync();
        await kit.TradeAsync("binance", "LTCUSDT", 80m, 1m);

        var (status, order) = await PlaceAsync(client, new { exchange = "binance", symbol = "LTCUSDT", side = "buy", type = "limit", quantity = 0.25m, price = 79m });
        Assert.Equal(HttpStatusCode.Created, status);
        var orderId = order.GetProperty("id").GetGuid();
        var (_, sold) = await PlaceAsync(client, new { exchange = "binance", symbol = "LTCUSDT", side = "buy", type = "limit", quantity = 0.1m, price = 70m });
        var before = await PortfolioAsync(client);

        await KillAndRestartAsync("paper-engine");

        var open = await client.GetFromJsonAsync<JsonElement>("/api/v1/orders?status=new");
        Assert.Equal([orderId, sold.GetProperty("id").GetGuid()], open.EnumerateArray().Select(o => o.GetProperty("id").GetGuid()));
        var after = await PortfolioAsync(client);
        Assert.Equal(Balance(before, "USDT"), Balance(after, "USDT"));

        // The restarted engine matches live trades again: one fill, once, even if the print is delivered twice.
        var print = await kit.TradeAsync("binance", "LTCUSDT", 78m, 1m);
        await kit.TradeAsync("binance", "LTCUSDT", print.Price, print.Quantity, print.TradeId, redelivery: true);
        var fill = Assert.Single(await kit.ReadAsync(Subjects.TradingFill(userId), 1, ContractsJsonContext.Wire.FillEvent));
        Assert.Equal((orderId, 79m, 0.25m), (fill.OrderId, fill.Price, fill.Quantity));

        // And once more across another restart: the fill is not made again from the replayed stream.
        await KillAndRestartAsync("paper-engine");
        await kit.TradeAsync("binance", "LTCUSDT", 80m, 1m);
        var fills = await client.GetFromJsonAsync<JsonElement>("/api/v1/fills");
        Assert.Single(fills.EnumerateArray());
        Assert.Equal(1UL, await kit.CountAsync(Subjects.TradingFill(userId)));
        var portfolio = await PortfolioAsync(client);
        Assert.Equal((0.25m, 0m), Balance(portfolio, "LTC"));
        Assert.Equal(10_000m - (79m * 0.25m) - 0.01975m - (0.1m * 70m * 1.001m), Balance(portfolio, "USDT").Free);
    }

    [Fact]
    public async Task A_batch_of_prints_replayed_after_kill_9_fills_nothing_twice_and_the_next_batch_fills_the_rest()
    {
        await using var kit = await ConnectAsync(system);
        var (userId, _, client) = await system.CreateUserAsync();
        await kit.TradeAsync("binance", "UNIUSDT", 10m, 1m);

        var (status, order) = await PlaceAsync(client, new { exchange = "binance", symbol = "UNIUSDT", side = "buy", type = "limit", quantity = 1m, price = 9.5m });
        Assert.Equal(HttpStatusCode.Created, status);
        var orderId = order.GetProperty("id").GetGuid();
        var batch = await kit.TradesAsync("binance", "UNIUSDT", (9.5m, 0.3m), (9.6m, 1m), (9.4m, 0.5m));
        Assert.Equal([0.3m, 0.5m], (await kit.ReadAsync(Subjects.TradingFill(userId), 2, ContractsJsonContext.Wire.FillEvent)).Select(f => f.Quantity));

        // The restarted engine replays the stream from its watermark, and the same message comes again: no print of it
        // fills the order a second time. The next message's prints fill exactly the 0.2 left, once.
        await KillAndRestartAsync("paper-engine");
        await kit.PublishAsync(batch, redelivery: true);
        var next = await kit.TradesAsync("binance", "UNIUSDT", (9.7m, 1m), (9m, 5m), (9m, 5m));
        var fills = await kit.ReadAsync(Subjects.TradingFill(userId), 3, ContractsJsonContext.Wire.FillEvent);
        Assert.Equal([(batch[0].TradeId, 0.3m), (batch[2].TradeId, 0.5m), (next[1].TradeId, 0.2m)], fills.Select(f => (f.TradeId, f.Quantity)));
        Assert.All(fills, f => Assert.Equal((orderId, 9.5m), (f.OrderId, f.Price)));

        var stored = await client.GetFromJsonAsync<JsonElement>($"/api/v1/orders/{orderId}");
        Assert.Equal(("filled", 1m), (stored.GetProperty("status").GetString(), stored.GetProperty("filledQuantity").GetDecimal()));
        Assert.Equal(3, (await client.GetFromJsonAsync<JsonElement>("/api/v1/fills")).GetArrayLength());
        var portfolio = await PortfolioAsync(client);
        Assert.Equal((10_000m - 9.5m - 0.0095m, 0m), Balance(portfolio, "USDT"));
        Assert.Equal((1m, 0m), Balance(portfolio, "UNI"));
        Assert.Equal(3UL, await kit.CountAsync(Subjects.TradingFill(userId)));
    }

    [Fact]
    public async Task Fee_rates_set_by_the_user_survive_a_kill_9_of_the_engine_and_price_the_next_fills()
    {
        await using var kit = await ConnectAsync(system);
        var (userId, _, client) = await system.CreateUserAsync();

        var defaults = await client.GetFromJsonAsync<JsonElement>("/api/v1/fees");
        Assert.Equal((0.001m, 0.001m), (defaults.GetProperty("makerFeeRate").GetDecimal(), defaults.GetProperty("takerFeeRate").GetDecimal()));
        var max = defaults.GetProperty("maxFeeRate").GetDecimal();

        using (var tooHigh = await client.PutAsJsonAsync("/api/v1/fees", new { takerFeeRate = max + 0.001m }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, tooHigh.StatusCode);
            var problem = await tooHigh.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(("https://quanttrader.dev/problems/validation", "takerFeeRate"), (problem.GetProperty("type").GetString(), problem.GetProperty("field").GetString()));
        }

        using (var put = await client.PutAsJsonAsync("/api/v1/fees", new { makerFeeRate = 0.0002m, takerFeeRate = 0.0005m }))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        // Another user's rates are untouched.
        var (_, _, other) = await system.CreateUserAsync();
        Assert.Equal(0.001m, (await other.GetFromJsonAsync<JsonElement>("/api/v1/fees")).GetProperty("takerFeeRate").GetDecimal());

        await KillAndRestartAsync("paper-engine");

        var stored = await client.GetFromJsonAsync<JsonElement>("/api/v1/fees");
        Assert.Equal((0.0002m, 0.0005m), (stored.GetProperty("makerFeeRate").GetDecimal(), stored.GetProperty("takerFeeRate").GetDecimal()));

        // A market buy pays the taker rate, a resting limit sell the maker rate.
        await kit.TradeAsync("binance", "DOGEUSDT", 0.1m, 10_000m);
        var (bought, _) = await PlaceAsync(client, new { exchange = "binance", symbol = "DOGEUSDT", side = "buy", type = "market", quantity = 100m });
        Assert.Equal(HttpStatusCode.Created, bought);
        await kit.TradeAsync("binance", "DOGEUSDT", 0.1m, 10_000m);
        var buy = Assert.Single(await kit.ReadAsync(Subjects.TradingFill(userId), 1, ContractsJsonContext.Wire.FillEvent));
        Assert.Equal((0.1m, 100m, 0.005m, Liquidity.Taker), (buy.Price, buy.Quantity, buy.Fee, buy.Liquidity));

        var (sold, _) = await PlaceAsync(client, new { exchange = "binance", symbol = "DOGEUSDT", side = "sell", type = "limit", quantity = 100m, price = 0.11m });
        Assert.Equal(HttpStatusCode.Created, sold);
        await kit.TradeAsync("binance", "DOGEUSDT", 0.11m, 10_000m);
        var sell = (await kit.ReadAsync(Subjects.TradingFill(userId), 2, ContractsJsonContext.Wire.FillEvent))[^1];
        Assert.Equal((0.11m, 100m, 0.0022m, Liquidity.Maker), (sell.Price, sell.Quantity, sell.Fee, sell.Liquidity));

        Assert.Equal((10_000m - 10m - 0.005m + 11m - 0.0022m, 0m), Balance(await PortfolioAsync(client), "USDT"));
    }

    [Fact]
    public async Task An_event_published_just_before_a_crash_leaves_the_outbox_once_and_does_not_block_it()
    {
        // A crash between "published" and "deleted from the outbox" leaves an event that JetStream already has.
        // Re-publishing it is answered "duplicate": the outbox must count that as delivered and move on.
        await using var kit = await ConnectAsync(system);
        await using var db = Npgsql.NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        var (userId, _, client) = await system.CreateUserAsync();
        await kit.TradeAsync("okx", "ETHUSDT", 2100m, 1m);
        var (status, order) = await PlaceAsync(client, new { exchange = "okx", symbol = "ETHUSDT", side = "buy", type = "limit", quantity = 0.01m, price = 1900m });
        Assert.Equal(HttpStatusCode.Created, status);
        var subject = Subjects.TradingOrder(userId);
        var published = Assert.Single(await kit.ReadAsync(subject, 1, ContractsJsonContext.Wire.OrderEvent));

        await using (var insert = db.CreateCommand("INSERT INTO paper_outbox (subject, message_id, payload) VALUES ($1, $2, $3)"))
        {
            insert.Parameters.Add(new() { Value = subject });
            insert.Parameters.Add(new() { Value = $"{order.GetProperty("id").GetGuid()}:1" });
            insert.Parameters.Add(new() { Value = JsonSerializer.SerializeToUtf8Bytes(published, ContractsJsonContext.Wire.OrderEvent) });
            await insert.ExecuteNonQueryAsync();
        }

        await Eventually.SucceedsAsync(async () =>
        {
            await using var pending = db.CreateCommand("SELECT count(*) FROM paper_outbox");
            Assert.Equal(0L, (long)(await pending.ExecuteScalarAsync())!);
        }, Wait);
        Assert.Equal(1UL, await kit.CountAsync(subject));

        // And the outbox still carries what comes next.
        using (var cancel = await client.DeleteAsync($"/api/v1/orders/{order.GetProperty("id").GetGuid()}"))
        {
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        }
        await kit.ReadAsync(subject, 2, ContractsJsonContext.Wire.OrderEvent);
    }

    [Fact]
    public async Task Without_a_risk_manager_no_order_is_accepted()
    {
        var (_, _, client) = await system.CreateUserAsync();
        var order = new { exchange = "binance", symbol = "UNIUSDT", side = "buy", type = "limit", quantity = 1m, price = 7m };

        await KillAsync("risk");
        try
        {
            var (status, problem) = await PlaceAsync(client, order);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("https://quanttrader.dev/problems/risk-unavailable", problem.GetProperty("type").GetString());
            Assert.Empty((await client.GetFromJsonAsync<JsonElement>("/api/v1/orders")).EnumerateArray());
        }
        finally
        {
            await StartAsync("risk");
        }

        var (again, _) = await PlaceAsync(client, order);
        Assert.Equal(HttpStatusCode.Created, again);
    }

    private Task KillAndRestartAsync(string resource) => ResourceControl.RestartAsync(system, resource);

    private Task KillAsync(string resource) => ResourceControl.KillAsync(system, resource);

    private Task StartAsync(string resource) => ResourceControl.StartAsync(system, resource);
}
