using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using QuantTrader.Contracts.Trading;

namespace QuantTrader.IntegrationTests;

/// <summary>The strategy runner end to end: upload through the gateway, start, closed klines over NATS, orders to the engine.</summary>
[Collection(SystemCollection.Name)]
public sealed class StrategyRunnerTests(SystemFixture system)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(StrategyFiles.SmaWasm)]
    [InlineData(StrategyFiles.SmaWat)]
    public async Task The_sma_example_on_closed_klines_sends_an_order_as_its_owner_with_its_id(string file)
    {
        await using var market = await MarketAndEngine.StartAsync(system);
        var (userId, _, client) = await system.CreateUserAsync();
        var symbol = StrategyFiles.UniqueSymbol();
        var id = await StrategyFiles.UploadAndStartAsync(client, file, symbol);

        await market.PublishClosedKlinesAsync(symbol, StrategyFiles.CrossingCloses, DateTimeOffset.UtcNow.AddMinutes(-10));

        await Eventually.SucceedsAsync(() =>
        {
            var request = Assert.Single(market.RequestsFor(id));
            Assert.Equal(userId, request.UserId);
            Assert.Equal(("binance", symbol), (request.Exchange, request.Symbol));
            Assert.Equal((OrderSide.Buy, OrderType.Market, 0.01m), (request.Side, request.Type, request.Quantity));
            return Task.CompletedTask;
        }, Wait);
        // The engine's reply (this test's responder or, after the merge, the real paper engine) reached the strategy's log.
        await Eventually.SucceedsAsync(async () =>
            Assert.Matches("order #1 buy market 0.01: (accepted|rejected)", await StrategyFiles.LogsAsync(client, id)), Wait);

        var status = await StrategyFiles.GetAsync(client, id);
        Assert.Equal("running", status.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, status.GetProperty("fault").ValueKind);
        var listed = await client.GetFromJsonAsync<JsonElement>("/api/v1/strategies");
        Assert.Equal(id, Assert.Single(listed.EnumerateArray()).GetProperty("id").GetGuid());

        using var stopped = await client.PostAsync($"/api/v1/strategies/{id}/stop", null);
        Assert.Equal("stopped", (await stopped.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_strategy_sees_its_owners_real_free_balance_through_quote_balance()
    {
        await using var market = await MarketAndEngine.StartAsync(system);
        var (userId, _, client) = await system.CreateUserAsync();

        // The owner's free USDT is not the starting 10,000: a resting buy on a real market locks 1,000 × 1.001.
        var (placed, _) = await PaperTradingKit.PlaceAsync(client, new { exchange = "binance", symbol = "BNBUSDT", side = "buy", type = "limit", quantity = 1m, price = 1000m });
        Assert.Equal(HttpStatusCode.Created, placed);
        var free = PaperTradingKit.Balance(await PaperTradingKit.PortfolioAsync(client), "USDT").Free;
        Assert.Equal(10_000m - 1001m, free);

        // buy-and-hold spends 0.99 × quote_balance() at the first close: the quantity it asks for says what it saw.
        var symbol = StrategyFiles.UniqueSymbol();
        var id = await StrategyFiles.UploadAndStartAsync(client, "wat/buy-and-hold.wat", symbol, "{}");
        await market.PublishClosedKlinesAsync(symbol, [100m], DateTimeOffset.UtcNow.AddMinutes(-5));

        var request = await Eventually.ReturnsAsync(() => Task.FromResult(market.RequestsFor(id).FirstOrDefault()), Wait, "the strategy's order");
        Assert.Equal((userId, OrderSide.Buy, OrderType.Market), (request.UserId, request.Side, request.Type));
        // f64 at the boundary: the host's decimal has 15 significant digits.
        Assert.InRange(request.Quantity, (free * 0.99m / 100m) - 0.000001m, (free * 0.99m / 100m) + 0.000001m);
        await Eventually.SucceedsAsync(async () => Assert.Contains("buy-and-hold: bought", await StrategyFiles.LogsAsync(client, id)), Wait);
    }

    [Theory]
    [InlineData("wat/hostile/infinite-loop.wat", "fuel|timeout")]
    [InlineData("wat/hostile/memory-bomb.wat", "memory")]
    [InlineData("wat/hostile/trap.wat", "trap")]
    public async Task A_hostile_module_faults_with_its_reason_while_a_good_strategy_on_the_same_klines_keeps_trading(string hostileFile, string reasons)
    {
        await using var market = await MarketAndEngine.StartAsync(system);
        var (_, _, attacker) = await system.CreateUserAsync();
        var (trader, _, client) = await system.CreateUserAsync();
        var symbol = StrategyFiles.UniqueSymbol();
        var hostile = await StrategyFiles.UploadAndStartAsync(attacker, hostileFile, symbol, "{}");
        var good = await StrategyFiles.UploadAndStartAsync(client, StrategyFiles.SmaWasm, symbol);

        await market.PublishClosedKlinesAsync(symbol, StrategyFiles.CrossingCloses, DateTimeOffset.UtcNow.AddMinutes(-10));

        await Eventually.SucceedsAsync(async () =>
        {
            var status = await StrategyFiles.GetAsync(attacker, hostile);
            Assert.Equal("faulted", status.GetProperty("status").GetString());
            Assert.Matches($"^({reasons})$", status.GetProperty("fault").GetProperty("reason").GetString());
            Assert.Equal("on_kline", status.GetProperty("fault").GetProperty("call").GetString());
            Assert.False(string.IsNullOrEmpty(status.GetProperty("fault").GetProperty("message").GetString()));
        }, Wait);
        await Eventually.SucceedsAsync(() =>
        {
            Assert.Equal(trader, Assert.Single(market.RequestsFor(good)).UserId);
            return Task.CompletedTask;
        }, Wait);
        Assert.Equal("running", (await StrategyFiles.GetAsync(client, good)).GetProperty("status").GetString());
        Assert.Contains("faulted", await StrategyFiles.LogsAsync(attacker, hostile));
        Assert.Empty(market.RequestsFor(hostile));
        using var health = await system.Gateway.GetAsync("/health/strategy-runner");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Uploads_are_validated_with_problems_naming_the_field()
    {
        var (_, _, client) = await system.CreateUserAsync();
        var symbol = StrategyFiles.UniqueSymbol();

        var forbidden = await UploadProblemAsync(client, StrategyFiles.Upload("wat/hostile/forbidden-import.wat", symbol, "{}"));
        Assert.Equal("module", forbidden.GetProperty("field").GetString());
        Assert.Contains("wasi_snapshot_preview1.environ_get", forbidden.GetProperty("detail").GetString());
        Assert.Contains("not part of strategy ABI v1", forbidden.GetProperty("errors")[0].GetString());

        using (var garbage = new MultipartFormDataContent
        {
            { new ByteArrayContent([1, 2, 3, 4]), "module", "x.wasm" },
            { new StringContent("x"), "name" }, { new StringContent("binance"), "exchange" },
            { new StringContent(symbol), "symbol" }, { new StringContent("1m"), "interval" },
        })
        {
            Assert.Equal("module", (await UploadProblemAsync(client, garbage)).GetProperty("field").GetString());
        }

        var refused = await UploadProblemAsync(client, StrategyFiles.Upload(StrategyFiles.SmaWasm, symbol, """{"fast":20,"slow":5}"""));
        Assert.Equal("parameters", refused.GetProperty("field").GetString());
        Assert.Equal("parameters", (await UploadProblemAsync(client, StrategyFiles.Upload(StrategyFiles.SmaWasm, symbol, "[1,2"))).GetProperty("field").GetString());
        Assert.Equal("interval", (await UploadProblemAsync(client, StrategyFiles.Upload(StrategyFiles.SmaWasm, symbol, interval: "7m"))).GetProperty("field").GetString());

        // Nothing was stored by the refused uploads.
        Assert.Empty((await client.GetFromJsonAsync<JsonElement>("/api/v1/strategies")).EnumerateArray());
    }

    private static async Task<JsonElement> UploadProblemAsync(HttpClient client, MultipartFormDataContent content)
    {
        using (content)
        {
            using var response = await client.PostAsync("/api/v1/strategies", content);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("https://quanttrader.dev/problems/validation", problem.GetProperty("type").GetString());
            return problem;
        }
    }

    [Fact]
    public async Task The_plan_limits_the_number_of_strategies()
    {
        var (_, _, client) = await system.CreateUserAsync();
        var me = await client.GetFromJsonAsync<JsonElement>("/api/v1/accounts/me");
        var allowed = me.GetProperty("limits").GetProperty("strategies").GetInt32();
        var symbol = StrategyFiles.UniqueSymbol();
        for (var i = 0; i < allowed; i++)
        {
            using var content = StrategyFiles.Upload(StrategyFiles.SmaWat, symbol);
            using var created = await client.PostAsync("/api/v1/strategies", content);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        using (var content = StrategyFiles.Upload(StrategyFiles.SmaWat, symbol))
        using (var refused = await client.PostAsync("/api/v1/strategies", content))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("https://quanttrader.dev/problems/plan-limit", problem.GetProperty("type").GetString());
            Assert.Equal("strategies", problem.GetProperty("limit").GetString());
        }
        // Deleting one frees its slot.
        var first = (await client.GetFromJsonAsync<JsonElement>("/api/v1/strategies"))[0].GetProperty("id").GetGuid();
        using (var deleted = await client.DeleteAsync($"/api/v1/strategies/{first}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }
        using (var content = StrategyFiles.Upload(StrategyFiles.SmaWat, symbol))
        using (var again = await client.PostAsync("/api/v1/strategies", content))
        {
            Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        }
    }

    [Fact]
    public async Task Another_users_strategy_is_a_404_everywhere()
    {
        var (_, _, owner) = await system.CreateUserAsync();
        var (_, _, other) = await system.CreateUserAsync();
        Guid id;
        using (var content = StrategyFiles.Upload(StrategyFiles.SmaWat, StrategyFiles.UniqueSymbol()))
        using (var created = await owner.PostAsync("/api/v1/strategies", content))
        {
            id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        }

        foreach (var response in new[]
        {
            await other.GetAsync($"/api/v1/strategies/{id}"),
            await other.GetAsync($"/api/v1/strategies/{id}/logs"),
            await other.PostAsync($"/api/v1/strategies/{id}/start", null),
            await other.PostAsync($"/api/v1/strategies/{id}/stop", null),
            await other.DeleteAsync($"/api/v1/strategies/{id}"),
            await other.PostAsJsonAsync("/api/v1/backtests", new { strategyId = id, from = "2024-01-01T00:00:00Z", to = "2024-01-02T00:00:00Z" }),
        })
        {
            using (response)
            {
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            }
        }
        Assert.Empty((await other.GetFromJsonAsync<JsonElement>("/api/v1/strategies")).EnumerateArray());
        Assert.Equal("stopped", (await StrategyFiles.GetAsync(owner, id)).GetProperty("status").GetString());

        using var anonymous = await system.Gateway.GetAsync("/api/v1/strategies");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task Running_strategies_come_back_after_a_runner_restart_and_get_the_klines_they_missed()
    {
        await using var market = await MarketAndEngine.StartAsync(system);
        var (userId, _, client) = await system.CreateUserAsync();
        var symbol = StrategyFiles.UniqueSymbol();
        var id = await StrategyFiles.UploadAndStartAsync(client, StrategyFiles.SmaWasm, symbol);

        // The runner crashes (SIGKILL: no graceful hand-over of anything).
        await ResourceControl.KillAsync(system, "strategy-runner");
        try
        {
            // Published while the runner is down: the strategy's durable consumer keeps them.
            await market.PublishClosedKlinesAsync(symbol, StrategyFiles.CrossingCloses, DateTimeOffset.UtcNow.AddMinutes(-10));
        }
        finally
        {
            await ResourceControl.StartAsync(system, "strategy-runner");
        }

        await Eventually.SucceedsAsync(() =>
        {
            Assert.Equal(userId, Assert.Single(market.RequestsFor(id)).UserId);
            return Task.CompletedTask;
        }, Wait);
        await Eventually.SucceedsAsync(async () =>
        {
            Assert.Equal("running", (await StrategyFiles.GetAsync(client, id)).GetProperty("status").GetString());
            Assert.Contains("started again after a runner restart", await StrategyFiles.LogsAsync(client, id));
        }, Wait);
    }
}
