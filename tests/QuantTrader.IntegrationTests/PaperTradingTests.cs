using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;
using static QuantTrader.IntegrationTests.PaperTradingKit;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Paper trading end to end: orders through the gateway, risk over NATS, trades injected into MARKET_RAW on real
/// JetStream, fills and order events on TRADING, balances from PostgreSQL-backed state.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class PaperTradingTests(SystemFixture system)
{
    [Fact]
    public async Task A_resting_limit_buy_fills_as_maker_when_a_trade_crosses_it_and_the_portfolio_pays_price_times_quantity_plus_fee()
    {
        await using var kit = await ConnectAsync(system);
        var (userId, _, client) = await system.CreateUserAsync();
        await kit.TradeAsync("okx", "LTCUSDT", 100m, 1m);

        var (status, order) = await PlaceAsync(client, new { exchange = "okx", symbol = "LTCUSDT", side = "buy", type = "limit", quantity = 0.5m, price = 99m, timeInForce = "gtc" });
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("new", order.GetProperty("status").GetString());
        var orderId = order.GetProperty("id").GetGuid();

        // Locked: quantity × limit × (1 + fee rate).
        var before = await PortfolioAsync(client);
        Assert.Equal((10_000m - 49.5495m, 49.5495m), Balance(before, "USDT"));

        // A print that does not reach the limit fills nothing; one through it fills at the limit, as maker.
        await kit.TradeAsync("okx", "LTCUSDT", 99.5m, 3m);
        await kit.TradeAsync("okx", "LTCUSDT", 98.5m, 2m);
        var fills = await kit.ReadAsync(Subjects.TradingFill(userId), 1, ContractsJsonContext.Wire.FillEvent);
        var fill = Assert.Single(fills);
        Assert.Equal((orderId, 99m, 0.5m, 0.0495m, "USDT", Liquidity.Maker), (fill.OrderId, fill.Price, fill.Quantity, fill.Fee, fill.FeeAsset, fill.Liquidity));

        var listed = await client.GetFromJsonAsync<JsonElement>("/api/v1/fills");
        var row = Assert.Single(listed.EnumerateArray());
        Assert.Equal(orderId, row.GetProperty("orderId").GetGuid());
        Assert.Equal("maker", row.GetProperty("liquidity").GetString());
        Assert.Equal(0.0495m, row.GetProperty("fee").GetDecimal());

        var after = await PortfolioAsync(client);
        Assert.Equal((10_000m - (99m * 0.5m) - 0.0495m, 0m), Balance(after, "USDT"));
        Assert.Equal((0.5m, 0m), Balance(after, "LTC"));
        var position = Assert.Single(after.GetProperty("positions").EnumerateArray());
        Assert.Equal(0.5m, position.GetProperty("quantity").GetDecimal());

        var filled = await client.GetFromJsonAsync<JsonElement>($"/api/v1/orders/{orderId}");
        Assert.Equal("filled", filled.GetProperty("status").GetString());
        Assert.Equal(99m, filled.GetProperty("averagePrice").GetDecimal());

        // Every order change is on TRADING once: new, then filled.
        var events = await kit.ReadAsync(Subjects.TradingOrder(userId), 2, ContractsJsonContext.Wire.OrderEvent);
        Assert.Equal([OrderStatus.New, OrderStatus.Filled], events.Select(e => e.Status));
    }

    [Fact]
    public async Task A_market_buy_fills_at_the_next_trade_as_taker()
    {
        await using var kit = await ConnectAsync(system);
        var (userId, _, client) = await system.CreateUserAsync();
        await kit.TradeAsync("okx", "DOTUSDT", 5m, 10m);

        var (status, order) = await PlaceAsync(client, new { exchange = "okx", symbol = "DOTUSDT", side = "buy", type = "market", quantity = 10m });
        Assert.Equal(HttpStatusCode.Created, status);

        await kit.TradeAsync("okx", "DOTUSDT", 5.1m, 100m);
        var fill = Assert.Single(await kit.ReadAsync(Subjects.TradingFill(userId), 1, ContractsJsonContext.Wire.FillEvent));
        Assert.Equal((5.1m, 10m, 0.051m, Liquidity.Taker), (fill.Price, fill.Quantity, fill.Fee, fill.Liquidity));
        Assert.Equal(order.GetProperty("id").GetGuid(), fill.OrderId);

        var portfolio = await PortfolioAsync(client);
        Assert.Equal((10_000m - 51m - 0.051m, 0m), Balance(portfolio, "USDT"));
        Assert.Equal((10m, 0m), Balance(portfolio, "DOT"));
    }

    [Fact]
    public async Task A_prints_quantity_is_consumed_across_users_and_a_redelivered_print_fills_nothing_twice()
    {
        await using var kit = await ConnectAsync(system);
        var (userA, _, clientA) = await system.CreateUserAsync();
        var (userB, _, clientB) = await system.CreateUserAsync();
        await kit.TradeAsync("okx", "UNIUSDT", 10m, 1m);

        var (sa, a) = await PlaceAsync(clientA, new { exchange = "okx", symbol = "UNIUSDT", side = "buy", type = "limit", quantity = 1m, price = 9.9m });
        var (sb, b) = await PlaceAsync(clientB, new { exchange = "okx", symbol = "UNIUSDT", side = "buy", type = "limit", quantity = 1m, price = 9.9m });
        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Created), (sa, sb));

        var print = await kit.TradeAsync("okx", "UNIUSDT", 9.9m, 1.5m);
        var fillA = Assert.Single(await kit.ReadAsync(Subjects.TradingFill(userA), 1, ContractsJsonContext.Wire.FillEvent));
        var fillB = Assert.Single(await kit.ReadAsync(Subjects.TradingFill(userB), 1, ContractsJsonContext.Wire.FillEvent));
        Assert.Equal(1m, fillA.Quantity);   // first come, first served at the same price
        Assert.Equal(0.5m, fillB.Quantity); // only what is left of the 1.5 print

        // The same print again (a redelivery under a new message id) changes nothing; a new print fills B's rest.
        await kit.TradeAsync("okx", "UNIUSDT", print.Price, print.Quantity, print.TradeId, redelivery: true);
        await kit.TradeAsync("okx", "UNIUSDT", 9.8m, 5m);
        var fillsB = await kit.ReadAsync(Subjects.TradingFill(userB), 2, ContractsJsonContext.Wire.FillEvent);
        Assert.Equal([0.5m, 0.5m], fillsB.Select(f => f.Quantity));
        Assert.Equal(1UL, await kit.CountAsync(Subjects.TradingFill(userA)));
        var orderB = await clientB.GetFromJsonAsync<JsonElement>($"/api/v1/orders/{b.GetProperty("id").GetGuid()}");
        Assert.Equal("filled", orderB.GetProperty("status").GetString());
        Assert.Equal(1m, orderB.GetProperty("filledQuantity").GetDecimal());
        _ = a;
    }

    [Fact]
    public async Task Several_prints_in_one_message_fill_print_by_print_each_giving_at_most_its_quantity()
    {
        // The ingestor puts the trades of a market waiting at the same moment into one message (a JSON array) under load.
        await using var kit = await ConnectAsync(system);
        var (userA, _, clientA) = await system.CreateUserAsync();
        var (userB, _, clientB) = await system.CreateUserAsync();

        // The market's newest message is a batch: its last print (10), not its first (9), prices a market buy.
        await kit.TradesAsync("binance", "XRPUSDT", (9m, 1m), (10m, 1m));
        var (status, market) = await PlaceAsync(clientA, new { exchange = "binance", symbol = "XRPUSDT", side = "buy", type = "market", quantity = 0.9m });
        Assert.Equal(HttpStatusCode.Created, status);
        var marketId = market.GetProperty("id").GetGuid();
        Assert.Equal((10_000m - 9.45945m, 9.45945m), Balance(await PortfolioAsync(clientA), "USDT")); // 0.9 × 10 × 1.05 × 1.001

        // One message, three prints: 0.4 and 0.5 fill the 0.9 in two fills, one per print; the third has nothing to fill.
        var first = await kit.TradesAsync("binance", "XRPUSDT", (10m, 0.4m), (10.1m, 0.5m), (10.2m, 3m));
        var fillsA = await kit.ReadAsync(Subjects.TradingFill(userA), 2, ContractsJsonContext.Wire.FillEvent);
        Assert.Equal([(first[0].TradeId, 10m, 0.4m), (first[1].TradeId, 10.1m, 0.5m)], fillsA.Select(f => (f.TradeId, f.Price, f.Quantity)));
        Assert.All(fillsA, f => Assert.Equal((marketId, Liquidity.Taker), (f.OrderId, f.Liquidity)));
        var eventsA = await kit.ReadAsync(Subjects.TradingOrder(userA), 3, ContractsJsonContext.Wire.OrderEvent);
        Assert.Equal([OrderStatus.New, OrderStatus.PartiallyFilled, OrderStatus.Filled], eventsA.Select(e => e.Status));
        var portfolioA = await PortfolioAsync(clientA);
        Assert.Equal((10_000m - 4m - 5.05m - 0.004m - 0.00505m, 0m), Balance(portfolioA, "USDT"));
        Assert.Equal((0.9m, 0m), Balance(portfolioA, "XRP"));

        // A resting limit buy at 9.5 (a maker: the last print was 10.2) fills only on the prints of a batch at or
        // through 9.5, at its limit, each print giving at most its own quantity.
        var (limitStatus, limit) = await PlaceAsync(clientB, new { exchange = "binance", symbol = "XRPUSDT", side = "buy", type = "limit", quantity = 1m, price = 9.5m });
        Assert.Equal(HttpStatusCode.Created, limitStatus);
        var limitId = limit.GetProperty("id").GetGuid();
        var second = await kit.TradesAsync("binance", "XRPUSDT", (9.8m, 5m), (9.5m, 0.3m), (9.6m, 2m), (9.4m, 0.5m), (9m, 10m));
        var fillsB = await kit.ReadAsync(Subjects.TradingFill(userB), 3, ContractsJsonContext.Wire.FillEvent);
        Assert.Equal([(second[1].TradeId, 0.3m), (second[3].TradeId, 0.5m), (second[4].TradeId, 0.2m)], fillsB.Select(f => (f.TradeId, f.Quantity)));
        Assert.All(fillsB, f => Assert.Equal((limitId, 9.5m, Liquidity.Maker), (f.OrderId, f.Price, f.Liquidity)));
        var eventsB = await kit.ReadAsync(Subjects.TradingOrder(userB), 4, ContractsJsonContext.Wire.OrderEvent);
        Assert.Equal([OrderStatus.New, OrderStatus.PartiallyFilled, OrderStatus.PartiallyFilled, OrderStatus.Filled], eventsB.Select(e => e.Status));
        Assert.Equal([0m, 0.3m, 0.8m, 1m], eventsB.Select(e => e.FilledQuantity));

        var portfolioB = await PortfolioAsync(clientB);
        Assert.Equal((10_000m - 9.5m - 0.0095m, 0m), Balance(portfolioB, "USDT"));
        Assert.Equal((1m, 0m), Balance(portfolioB, "XRP"));
        var stored = await clientB.GetFromJsonAsync<JsonElement>($"/api/v1/orders/{limitId}");
        Assert.Equal(("filled", 1m, 9.5m), (stored.GetProperty("status").GetString(), stored.GetProperty("filledQuantity").GetDecimal(), stored.GetProperty("averagePrice").GetDecimal()));
        Assert.Equal(3, (await clientB.GetFromJsonAsync<JsonElement>("/api/v1/fills")).GetArrayLength());
        Assert.Equal(2UL, await kit.CountAsync(Subjects.TradingFill(userA)));
    }

    [Fact]
    public async Task IOC_takes_what_the_next_print_gives_and_FOK_fills_whole_or_expires_releasing_its_funds()
    {
        await using var kit = await ConnectAsync(system);
        var (userA, _, clientA) = await system.CreateUserAsync();
        var (userB, _, clientB) = await system.CreateUserAsync();
        await kit.TradeAsync("okx", "ADAUSDT", 0.5m, 1000m);

        var (s1, ioc) = await PlaceAsync(clientA, new { exchange = "okx", symbol = "ADAUSDT", side = "buy", type = "limit", quantity = 200m, price = 0.5m, timeInForce = "ioc" });
        var (s2, fok) = await PlaceAsync(clientB, new { exchange = "okx", symbol = "ADAUSDT", side = "buy", type = "limit", quantity = 200m, price = 0.5m, timeInForce = "fok" });
        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Created), (s1, s2));

        await kit.TradeAsync("okx", "ADAUSDT", 0.5m, 50m);
        var iocEvents = await kit.ReadAsync(Subjects.TradingOrder(userA), 2, ContractsJsonContext.Wire.OrderEvent);
        var fokEvents = await kit.ReadAsync(Subjects.TradingOrder(userB), 2, ContractsJsonContext.Wire.OrderEvent);
        Assert.Equal((OrderStatus.Expired, 50m), (iocEvents[^1].Status, iocEvents[^1].FilledQuantity));
        Assert.Equal((OrderStatus.Expired, 0m), (fokEvents[^1].Status, fokEvents[^1].FilledQuantity));
        Assert.Equal(ioc.GetProperty("id").GetGuid(), iocEvents[^1].Id);
        Assert.Equal(fok.GetProperty("id").GetGuid(), fokEvents[^1].Id);

        // Nothing stays locked once the orders ended.
        Assert.Equal(0m, Balance(await PortfolioAsync(clientA), "USDT").Locked);
        Assert.Equal((10_000m, 0m), Balance(await PortfolioAsync(clientB), "USDT"));
        Assert.Equal(0UL, await kit.CountAsync(Subjects.TradingFill(userB)));
    }

    [Fact]
    public async Task A_sell_stop_market_below_the_market_waits_until_a_trade_crosses_its_stop_then_sells_at_the_next_print()
    {
        await using var kit = await ConnectAsync(system);
        var (userId, _, client) = await system.CreateUserAsync();
        await kit.TradeAsync("binance", "DOTUSDT", 6m, 100m);

        // Something to sell: 10 DOT bought at the next print.
        var (bought, _) = await PlaceAsync(client, new { exchange = "binance", symbol = "DOTUSDT", side = "buy", type = "market", quantity = 10m });
        Assert.Equal(HttpStatusCode.Created, bought);
        await kit.TradeAsync("binance", "DOTUSDT", 6m, 100m);
        Assert.Single(await kit.ReadAsync(Subjects.TradingFill(userId), 1, ContractsJsonContext.Wire.FillEvent));

        var (status, order) = await PlaceAsync(client, new { exchange = "binance", symbol = "DOTUSDT", side = "sell", type = "stop_market", quantity = 10m, stopPrice = 5.5m });
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(("new", "stop_market", 5.5m), (order.GetProperty("status").GetString(), order.GetProperty("type").GetString(), order.GetProperty("stopPrice").GetDecimal()));
        var stopId = order.GetProperty("id").GetGuid();
        // A sell locks the base it would sell, from acceptance until it ends.
        Assert.Equal((0m, 10m), Balance(await PortfolioAsync(client), "DOT"));

        // 5.6 does not reach the stop; 5.5 does and triggers it; it then sells at market on the next print, 5.4.
        // Had 5.6 triggered it, it would have sold at 5.5: the fill's price says which print triggered it.
        await kit.TradeAsync("binance", "DOTUSDT", 5.6m, 100m);
        await kit.TradeAsync("binance", "DOTUSDT", 5.5m, 100m);
        await kit.TradeAsync("binance", "DOTUSDT", 5.4m, 100m);
        var fills = await kit.ReadAsync(Subjects.TradingFill(userId), 2, ContractsJsonContext.Wire.FillEvent);
        var sold = fills[^1];
        Assert.Equal((stopId, OrderSide.Sell, 5.4m, 10m, 0.054m, Liquidity.Taker), (sold.OrderId, sold.Side, sold.Price, sold.Quantity, sold.Fee, sold.Liquidity));

        var stopEvents = (await kit.ReadAsync(Subjects.TradingOrder(userId), 4, ContractsJsonContext.Wire.OrderEvent)).Where(e => e.Id == stopId);
        Assert.Equal([OrderStatus.New, OrderStatus.Filled], stopEvents.Select(e => e.Status));
        var portfolio = await PortfolioAsync(client);
        Assert.Equal((0m, 0m), Balance(portfolio, "DOT"));
        Assert.Equal((10_000m - 60m - 0.06m + 54m - 0.054m, 0m), Balance(portfolio, "USDT"));
        var stored = await client.GetFromJsonAsync<JsonElement>($"/api/v1/orders/{stopId}");
        Assert.Equal(("filled", 5.4m), (stored.GetProperty("status").GetString(), stored.GetProperty("averagePrice").GetDecimal()));
    }

    [Fact]
    public async Task A_buy_stop_limit_above_the_market_triggers_on_a_cross_then_fills_only_within_its_limit_and_a_canceled_stop_releases_its_lock()
    {
        await using var kit = await ConnectAsync(system);
        var (userId, _, client) = await system.CreateUserAsync();
        await kit.TradeAsync("binance", "ADAUSDT", 0.5m, 1000m);

        var (status, order) = await PlaceAsync(client, new { exchange = "binance", symbol = "ADAUSDT", side = "buy", type = "stop_limit", quantity = 100m, stopPrice = 0.55m, price = 0.56m });
        Assert.Equal(HttpStatusCode.Created, status);
        var stopId = order.GetProperty("id").GetGuid();
        var (other, breakout) = await PlaceAsync(client, new { exchange = "binance", symbol = "ADAUSDT", side = "buy", type = "stop_market", quantity = 100m, stopPrice = 0.6m });
        Assert.Equal(HttpStatusCode.Created, other);

        // Stop-limit buy locks quantity × limit × (1 + fee); stop-market buy quantity × stop × (1 + 5 % margin) × (1 + fee).
        Assert.Equal((10_000m - 56.056m - 63.063m, 56.056m + 63.063m), Balance(await PortfolioAsync(client), "USDT"));
        using (var cancel = await client.DeleteAsync($"/api/v1/orders/{breakout.GetProperty("id").GetGuid()}"))
        {
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        }

        Assert.Equal((10_000m - 56.056m, 56.056m), Balance(await PortfolioAsync(client), "USDT"));

        // 0.54 is below the stop; 0.55 triggers it (a taker: its 0.56 limit is through 0.55); 0.57 is above the limit,
        // so it does not fill there; 0.555 is within it and fills at the print.
        await kit.TradeAsync("binance", "ADAUSDT", 0.54m, 1000m);
        await kit.TradeAsync("binance", "ADAUSDT", 0.55m, 1000m);
        await kit.TradeAsync("binance", "ADAUSDT", 0.57m, 1000m);
        await kit.TradeAsync("binance", "ADAUSDT", 0.555m, 1000m);
        var fill = Assert.Single(await kit.ReadAsync(Subjects.TradingFill(userId), 1, ContractsJsonContext.Wire.FillEvent));
        Assert.Equal((stopId, OrderSide.Buy, 0.555m, 100m, 0.0555m, Liquidity.Taker), (fill.OrderId, fill.Side, fill.Price, fill.Quantity, fill.Fee, fill.Liquidity));

        // What the lock held beyond the cost is free again.
        var portfolio = await PortfolioAsync(client);
        Assert.Equal((10_000m - 55.5m - 0.0555m, 0m), Balance(portfolio, "USDT"));
        Assert.Equal((100m, 0m), Balance(portfolio, "ADA"));
        var stored = await client.GetFromJsonAsync<JsonElement>($"/api/v1/orders/{stopId}");
        Assert.Equal("filled", stored.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Cancel_releases_locked_funds_and_another_user_can_neither_read_nor_cancel_the_order()
    {
        await using var kit = await ConnectAsync(system);
        var (_, _, owner) = await system.CreateUserAsync();
        var (_, _, stranger) = await system.CreateUserAsync();
        await kit.TradeAsync("okx", "XRPUSDT", 0.6m, 100m);

        var (status, order) = await PlaceAsync(owner, new { exchange = "okx", symbol = "XRPUSDT", side = "buy", type = "limit", quantity = 100m, price = 0.5m });
        Assert.Equal(HttpStatusCode.Created, status);
        var id = order.GetProperty("id").GetGuid();
        Assert.Equal((10_000m - 50.05m, 50.05m), Balance(await PortfolioAsync(owner), "USDT"));

        using (var read = await stranger.GetAsync($"/api/v1/orders/{id}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        }

        using (var cancel = await stranger.DeleteAsync($"/api/v1/orders/{id}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, cancel.StatusCode);
        }

        Assert.Empty((await stranger.GetFromJsonAsync<JsonElement>("/api/v1/orders")).EnumerateArray());

        using (var cancel = await owner.DeleteAsync($"/api/v1/orders/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
            Assert.Equal("canceled", (await cancel.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        }

        Assert.Equal((10_000m, 0m), Balance(await PortfolioAsync(owner), "USDT"));
        var canceled = await owner.GetFromJsonAsync<JsonElement>("/api/v1/orders?status=canceled");
        Assert.Equal(id, Assert.Single(canceled.EnumerateArray()).GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task A_client_order_id_returns_the_same_order_for_the_same_request_and_409_for_another()
    {
        var (_, _, client) = await system.CreateUserAsync();
        var request = new { exchange = "okx", symbol = "DOGEUSDT", side = "buy", type = "limit", quantity = 100m, price = 0.1m, clientOrderId = "my-order-1" };

        var (first, created) = await PlaceAsync(client, request);
        var (second, again) = await PlaceAsync(client, request);
        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.OK), (first, second));
        Assert.Equal(created.GetProperty("id").GetGuid(), again.GetProperty("id").GetGuid());
        Assert.Equal("my-order-1", again.GetProperty("clientOrderId").GetString());

        var (conflict, problem) = await PlaceAsync(client, request with { quantity = 200m });
        Assert.Equal(HttpStatusCode.Conflict, conflict);
        Assert.Equal("https://quanttrader.dev/problems/client-order-id-conflict", problem.GetProperty("type").GetString());

        // One order was placed, and only its funds are locked.
        Assert.Single((await client.GetFromJsonAsync<JsonElement>("/api/v1/orders")).EnumerateArray());
        Assert.Equal(10.01m, Balance(await PortfolioAsync(client), "USDT").Locked);
    }

    [Theory]
    [InlineData("nasdaq", "DOGEUSDT", "limit", 100, 0.1, "exchange")]
    [InlineData("okx", "FOOBAR", "limit", 100, 0.1, "symbol")]
    [InlineData("okx", "DOGEUSDT", "limit", 100.5, 0.1, "quantity")]   // step 1
    [InlineData("okx", "DOGEUSDT", "limit", 100, 0.123456, "price")]   // tick 0.00001
    [InlineData("okx", "DOGEUSDT", "limit", 1, 0.1, "quantity")]       // notional 0.1 < 5
    [InlineData("okx", "DOGEUSDT", "limit", 200000, 0.1, "quantity")]  // 20,000 USDT > 10,000 free (risk allows 50,000)
    [InlineData("okx", "DOGEUSDT", "sideways", 100, 0.1, "type")]
    public async Task An_invalid_order_is_a_400_naming_the_field(string exchange, string symbol, string type, decimal quantity, decimal price, string field)
    {
        var (_, _, client) = await system.CreateUserAsync();
        var (status, problem) = await PlaceAsync(client, new { exchange, symbol, side = "buy", type, quantity, price });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(field, problem.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Risk_limits_are_per_user_capped_by_the_ceiling_and_a_rejection_is_a_422_naming_the_limit()
    {
        var (_, _, client) = await system.CreateUserAsync();
        var defaults = await client.GetFromJsonAsync<JsonElement>("/api/v1/risk/limits");
        Assert.True(defaults.GetProperty("maxOrderNotional").GetDecimal() > 100m);

        using (var over = await client.PutAsJsonAsync("/api/v1/risk/limits", new { maxOpenOrders = 1_000_000 }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
            Assert.Equal("maxOpenOrders", (await over.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        }

        using (var put = await client.PutAsJsonAsync("/api/v1/risk/limits", new { maxOrderNotional = 20m }))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        Assert.Equal(20m, (await client.GetFromJsonAsync<JsonElement>("/api/v1/risk/limits")).GetProperty("maxOrderNotional").GetDecimal());

        var (status, problem) = await PlaceAsync(client, new { exchange = "okx", symbol = "SOLUSDT", side = "buy", type = "limit", quantity = 1m, price = 50m });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("maxOrderNotional", problem.GetProperty("limit").GetString());
        Assert.Contains("50", problem.GetProperty("detail").GetString());

        var (ok, _) = await PlaceAsync(client, new { exchange = "okx", symbol = "SOLUSDT", side = "buy", type = "limit", quantity = 0.3m, price = 50m });
        Assert.Equal(HttpStatusCode.Created, ok);

        using (var put = await client.PutAsJsonAsync("/api/v1/risk/limits", new { maxOpenOrders = 1 }))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        var (second, openProblem) = await PlaceAsync(client, new { exchange = "okx", symbol = "SOLUSDT", side = "buy", type = "limit", quantity = 0.3m, price = 50m });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, second);
        Assert.Equal("maxOpenOrders", openProblem.GetProperty("limit").GetString());
    }

    [Fact]
    public async Task An_order_over_NATS_takes_the_same_path_as_REST()
    {
        await using var kit = await ConnectAsync(system);
        var (userId, _, client) = await system.CreateUserAsync();
        var strategyId = Guid.NewGuid();

        // The same invalid order both ways: the same field.
        var (restStatus, restProblem) = await PlaceAsync(client, new { exchange = "okx", symbol = "BNBUSDT", side = "buy", type = "limit", quantity = 0.0001m, price = 400m });
        Assert.Equal(HttpStatusCode.BadRequest, restStatus);
        var invalid = await SubmitOverNatsAsync(kit, new SubmitOrderRequest(userId, strategyId, "okx", "BNBUSDT", OrderSide.Buy, OrderType.Limit, TimeInForce.Gtc, 0.0001m, 400m, null, null));
        Assert.Null(invalid.Order);
        Assert.Equal(("validation", restProblem.GetProperty("field").GetString()), (invalid.Error, invalid.Field));

        var accepted = await SubmitOverNatsAsync(kit, new SubmitOrderRequest(userId, strategyId, "okx", "BNBUSDT", OrderSide.Buy, OrderType.Limit, TimeInForce.Gtc, 0.05m, 400m, null, "strategy-1"));
        Assert.Null(accepted.Error);
        Assert.Equal(strategyId, accepted.Order!.StrategyId);
        var stored = await client.GetFromJsonAsync<JsonElement>($"/api/v1/orders/{accepted.Order.Id}");
        Assert.Equal(strategyId, stored.GetProperty("strategyId").GetGuid());

        // Idempotent over NATS too.
        var again = await SubmitOverNatsAsync(kit, new SubmitOrderRequest(userId, strategyId, "okx", "BNBUSDT", OrderSide.Buy, OrderType.Limit, TimeInForce.Gtc, 0.05m, 400m, null, "strategy-1"));
        Assert.Equal(accepted.Order.Id, again.Order!.Id);

        var reply = await kit.Nats.RequestAsync<byte[], byte[]>(Subjects.TradingCancel,
            JsonSerializer.SerializeToUtf8Bytes(new CancelOrderRequest(userId, accepted.Order.Id), ContractsJsonContext.Wire.CancelOrderRequest));
        var canceled = JsonSerializer.Deserialize(reply.Data!, ContractsJsonContext.Wire.SubmitOrderReply)!;
        Assert.Equal(OrderStatus.Canceled, canceled.Order!.Status);
    }

    private static async Task<SubmitOrderReply> SubmitOverNatsAsync(PaperTradingKit kit, SubmitOrderRequest request)
    {
        var reply = await kit.Nats.RequestAsync<byte[], byte[]>(Subjects.TradingSubmit,
            JsonSerializer.SerializeToUtf8Bytes(request, ContractsJsonContext.Wire.SubmitOrderRequest),
            replyOpts: new NATS.Client.Core.NatsSubOpts { Timeout = TimeSpan.FromSeconds(15) });
        return JsonSerializer.Deserialize(reply.Data!, ContractsJsonContext.Wire.SubmitOrderReply)!;
    }
}
