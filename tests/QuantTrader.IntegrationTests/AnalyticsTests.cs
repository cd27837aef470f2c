using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;

namespace QuantTrader.IntegrationTests;

/// <summary>Analytics over real fills and klines on JetStream: equity snapshots, the equity curve and performance statistics.</summary>
[Collection(SystemCollection.Name)]
public sealed class AnalyticsTests(SystemFixture system)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    private static DateTimeOffset Minute(DateTimeOffset t) => new(t.UtcTicks - (t.UtcTicks % TimeSpan.TicksPerMinute), TimeSpan.Zero);

    [Fact]
    public async Task A_round_trip_shows_in_the_equity_curve_and_the_performance_statistics()
    {
        var (userId, _, client) = await system.CreateUserAsync();
        await using var bus = await Bus.ConnectAsync(system);
        var symbol = "A" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant() + "USDT"; // no kline: marked at its last fill price
        var buyAt = Minute(DateTimeOffset.UtcNow).AddMinutes(-30);
        var sellAt = buyAt.AddMinutes(10);
        var orderId = Guid.NewGuid();
        var strategyId = Guid.NewGuid();
        var buy = new FillEvent(Guid.NewGuid(), orderId, userId, strategyId, "binance", symbol, OrderSide.Buy, 100m, 10m, 1m, "USDT", Liquidity.Taker, 1, buyAt);
        var sell = new FillEvent(Guid.NewGuid(), Guid.NewGuid(), userId, strategyId, "binance", symbol, OrderSide.Sell, 120m, 10m, 1m, "USDT", Liquidity.Taker, 2, sellAt);
        await bus.PublishAsync(Subjects.TradingFill(userId), buy, buy.Id.ToString(), ContractsJsonContext.Wire.FillEvent);
        await bus.PublishAsync(Subjects.TradingFill(userId), sell, sell.Id.ToString(), ContractsJsonContext.Wire.FillEvent);
        // Redelivered under another id: counted once.
        await bus.PublishAsync(Subjects.TradingFill(userId), sell, sell.Id + ":again", ContractsJsonContext.Wire.FillEvent);

        // Cash 10000 − (100×10 + 1) = 8999 plus 10 held at 100 → 9999 after the buy; 10000 − 1001 + (1200 − 1) = 10198 after the sell.
        var from = Uri.EscapeDataString(buyAt.AddMinutes(-1).ToString("O"));
        var curve = await Eventually.ReturnsAsync(async () =>
        {
            var points = await GetAsync<JsonElement[]>(client, $"/api/v1/analytics/equity?interval=1m&from={from}");
            return points.Length >= 2 && points[1].GetProperty("equity").GetDecimal() == 10198m && points[^1].GetProperty("equity").GetDecimal() == 10198m ? points : null;
        }, Wait, "the equity curve after both fills");
        Assert.Equal(buyAt, curve[0].GetProperty("time").GetDateTimeOffset());
        Assert.Equal(9999m, curve[0].GetProperty("equity").GetDecimal());
        Assert.Equal(sellAt, curve[1].GetProperty("time").GetDateTimeOffset());

        var performance = await GetAsync<JsonElement>(client, $"/api/v1/analytics/performance?interval=1m&from={from}&strategyId={strategyId}");
        Assert.Equal(9999m, performance.GetProperty("startEquity").GetDecimal());
        Assert.Equal(10198m, performance.GetProperty("endEquity").GetDecimal());
        Assert.Equal((double)(10198m / 9999m) - 1d, performance.GetProperty("totalReturn").GetDouble(), 1e-12);
        Assert.Equal(1, performance.GetProperty("trades").GetInt32());
        Assert.Equal(1m, performance.GetProperty("winRate").GetDecimal());
        Assert.Equal(198m, performance.GetProperty("netProfit").GetDecimal()); // (1200 − 1) − (1000 + 1)
        Assert.Equal(JsonValueKind.Null, performance.GetProperty("profitFactor").ValueKind); // no losing trade
        Assert.InRange(performance.GetProperty("maxDrawdown").GetDouble(), 0d, 1d);
        Assert.Equal(365d * 24 * 60, performance.GetProperty("periodsPerYear").GetDouble(), 1e-9);
        var exposure = performance.GetProperty("exposure").GetDouble();
        Assert.InRange(exposure, 0.0001, 1d); // held for 10 of the minutes in the curve

        // Another strategy has no closed trades; the account's equity curve is the same.
        var other = await GetAsync<JsonElement>(client, $"/api/v1/analytics/performance?interval=1m&from={from}&strategyId={Guid.NewGuid()}");
        Assert.Equal(0, other.GetProperty("trades").GetInt32());
        Assert.Equal(10198m, other.GetProperty("endEquity").GetDecimal());
    }

    [Fact]
    public async Task Open_positions_are_marked_at_the_latest_closed_1m_kline()
    {
        var (userId, _, client) = await system.CreateUserAsync();
        await using var bus = await Bus.ConnectAsync(system);
        var symbol = "M" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant() + "USDT";
        var open = Minute(DateTimeOffset.UtcNow).AddMinutes(-2);
        var kline = new Kline("binance", symbol, "1m", open, open.AddMinutes(1).AddMilliseconds(-1), 140m, 151m, 139m, 150m, 3m, 450m, 3, 1m, 150m, true);
        await bus.PublishAsync(Subjects.MarketKline("binance", "1m", symbol), kline, $"{symbol}:{open.ToUnixTimeMilliseconds()}", ContractsJsonContext.Wire.Kline);
        var buy = new FillEvent(Guid.NewGuid(), Guid.NewGuid(), userId, null, "binance", symbol, OrderSide.Buy, 100m, 1m, 0m, "USDT", Liquidity.Maker, 7, open.AddSeconds(30));
        await bus.PublishAsync(Subjects.TradingFill(userId), buy, buy.Id.ToString(), ContractsJsonContext.Wire.FillEvent);

        // 10000 − 100 cash + 1 unit marked at the kline's close 150 (on the fill's snapshot if the mark was already
        // known, else on the next per-minute snapshot).
        await Eventually.SucceedsAsync(async () =>
        {
            var points = await GetAsync<JsonElement[]>(client, "/api/v1/analytics/equity?interval=1m");
            Assert.NotEmpty(points);
            Assert.Equal(10050m, points[^1].GetProperty("equity").GetDecimal());
        }, Wait);
    }

    [Fact]
    public async Task Analytics_needs_a_key_and_validates_its_parameters()
    {
        using (var anonymous = await system.Gateway.GetAsync("/api/v1/analytics/performance"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }
        var (_, _, client) = await system.CreateUserAsync();
        foreach (var (path, field) in new[]
        {
            ("/api/v1/analytics/performance?strategyId=nope", "strategyId"),
            ("/api/v1/analytics/performance?interval=7m", "interval"),
            ("/api/v1/analytics/equity?from=soon", "from"),
        })
        {
            using var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(field, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        }
        // A new user: no equity yet, and statistics that are undefined are null rather than errors.
        Assert.Empty(await GetAsync<JsonElement[]>(client, "/api/v1/analytics/equity"));
        var empty = await GetAsync<JsonElement>(client, "/api/v1/analytics/performance");
        Assert.Equal(0, empty.GetProperty("trades").GetInt32());
        Assert.Equal(JsonValueKind.Null, empty.GetProperty("sharpe").ValueKind);
    }

    private static async Task<T> GetAsync<T>(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<T>())!;
    }
}
