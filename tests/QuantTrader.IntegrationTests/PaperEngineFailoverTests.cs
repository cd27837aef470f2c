using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using QuantTrader.Contracts.Accounts;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Identity;
using static QuantTrader.IntegrationTests.PaperTradingKit;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Two paper-engine replicas: one active, one on standby (docs/scaling.md). The standby answers HTTP through the
/// active one, takes over when the active one dies or stops, and no fill is made twice nor any balance spent twice.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class PaperEngineFailoverTests(SystemFixture system)
{
    [Fact]
    public async Task A_standby_answers_through_the_active_engine_with_the_same_portfolio_and_orders()
    {
        await using var kit = await ConnectAsync(system);
        var (userId, _, client) = await system.CreateUserAsync();
        await kit.TradeAsync("okx", "ADAUSDT", 0.8m, 100m);
        var (status, order) = await PlaceAsync(client, new { exchange = "okx", symbol = "ADAUSDT", side = "buy", type = "limit", quantity = 20m, price = 0.5m });
        Assert.True(status == HttpStatusCode.Created, order.ToString());

        await using var standby = await ExtraReplica.StartAsync(system, "paper-engine");
        using var direct = StandbyClient(standby, userId);

        var throughStandby = await direct.GetFromJsonAsync<JsonElement>("/api/v1/portfolio");
        Assert.Equal(Balance(await PortfolioAsync(client), "USDT"), Balance(throughStandby, "USDT"));
        var (placed, second) = await PlaceAsync(direct, new { exchange = "okx", symbol = "ADAUSDT", side = "buy", type = "limit", quantity = 10m, price = 0.55m });
        Assert.True(placed == HttpStatusCode.Created, second.ToString());
        var open = await client.GetFromJsonAsync<JsonElement>("/api/v1/orders?status=new");
        Assert.Equal([order.GetProperty("id").GetGuid(), second.GetProperty("id").GetGuid()], open.EnumerateArray().Select(o => o.GetProperty("id").GetGuid()));
    }

    [Fact]
    public async Task When_the_active_engine_is_killed_the_standby_takes_over_and_fills_each_resting_order_exactly_once()
    {
        await using var kit = await ConnectAsync(system);
        var (userId, _, client) = await system.CreateUserAsync();
        await kit.TradeAsync("okx", "XRPUSDT", 0.5m, 100m);
        var (status, order) = await PlaceAsync(client, new { exchange = "okx", symbol = "XRPUSDT", side = "buy", type = "limit", quantity = 100m, price = 0.45m });
        Assert.True(status == HttpStatusCode.Created, order.ToString());
        var orderId = order.GetProperty("id").GetGuid();
        await using var standby = await ExtraReplica.StartAsync(system, "paper-engine");
        using var direct = StandbyClient(standby, userId);

        await ResourceControl.KillAsync(system, "paper-engine");

        // The standby takes the lease once the dead one's lapses, loads the stored state and matches from its watermark.
        await Eventually.SucceedsAsync(async () => (await direct.GetAsync("/api/v1/portfolio")).EnsureSuccessStatusCode(), TimeSpan.FromSeconds(60));
        var print = await kit.TradeAsync("okx", "XRPUSDT", 0.44m, 40m);
        await kit.TradeAsync("okx", "XRPUSDT", print.Price, print.Quantity, print.TradeId, redelivery: true);
        await kit.TradeAsync("okx", "XRPUSDT", 0.45m, 60m);
        var fills = await kit.ReadAsync(Subjects.TradingFill(userId), 2, ContractsJsonContext.Wire.FillEvent);
        Assert.Equal([40m, 60m], fills.Select(f => f.Quantity));
        Assert.All(fills, f => Assert.Equal((orderId, 0.45m), (f.OrderId, f.Price)));

        // The killed replica comes back as a standby (the lease is the other's now) and answers through it.
        await ResourceControl.StartAsync(system, "paper-engine");
        var portfolio = await PortfolioAsync(client);
        Assert.Equal((100m, 0m), Balance(portfolio, "XRP"));
        Assert.Equal((10_000m - 45m - 0.045m, 0m), Balance(portfolio, "USDT"));
        Assert.Equal(2UL, await kit.CountAsync(Subjects.TradingFill(userId)));

        // Hand the engine back: SIGTERM drains the standby-turned-active one, and Aspire's replica takes over.
        await standby.StopAsync();
        await Eventually.SucceedsAsync(async () => (await client.GetAsync("/api/v1/portfolio")).EnsureSuccessStatusCode(), TimeSpan.FromSeconds(60));
        Assert.Equal(Balance(portfolio, "USDT"), Balance(await PortfolioAsync(client), "USDT"));
    }

    /// <summary>A client of the standby itself, bypassing the gateway, with an identity signed by the gateway's key.</summary>
    private static HttpClient StandbyClient(ExtraReplica standby, Guid userId)
    {
        var identity = new IdentityToken(standby.Environment["QuantTrader__Identity__SigningKey"]);
        var client = new HttpClient(new FreshIdentityHandler(identity, new Caller(userId, "free", new PlanLimits(1000, 1000, 100000, 3650))))
        {
            BaseAddress = standby.Endpoint,
            Timeout = TimeSpan.FromSeconds(30),
        };
        return client;
    }

    /// <summary>A fresh identity on every request (they are valid for 60 s), as the gateway does.</summary>
    private sealed class FreshIdentityHandler(IdentityToken identity, Caller caller) : DelegatingHandler(new HttpClientHandler())
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Remove(IdentityToken.HeaderName);
            request.Headers.Add(IdentityToken.HeaderName, identity.Issue(caller));
            return base.SendAsync(request, cancellationToken);
        }
    }
}
