using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Issue 16 item 9: the plan's HistoryDays bounds how far back market data and backtests reach, counted from the
/// market's newest stored row (anonymous callers get the free plan's 30 days).
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class HistoryDaysTests(SystemFixture system)
{
    private static readonly DateTimeOffset Newest = new(2024, 6, 30, 0, 0, 0, TimeSpan.Zero);
    private static readonly int[] DaysBack = [400, 100, 40, 20, 10, 0];

    [Fact]
    public async Task Callers_without_a_key_and_free_callers_read_thirty_days_back_from_the_markets_newest_data()
    {
        var symbol = StrategyFiles.UniqueSymbol();
        await InsertDailyHistoryAsync(symbol);
        var (_, _, free) = await system.CreateUserAsync();

        foreach (var client in new[] { system.Gateway, free })
        {
            // Without 'from': the newest rows, none older than the horizon.
            Assert.Equal(new[] { 20, 10, 0 }, DaysOf(await ReadAsync(client, $"klines?interval=1d&limit=1000"), "openTime"));
            Assert.Equal(new[] { 20, 10, 0 }, DaysOf(await ReadAsync(client, $"trades?limit=1000"), "time"));
            // Within the horizon: as asked.
            Assert.Equal(new[] { 20, 10 }, DaysOf(await ReadAsync(client, $"klines?interval=1d&from={Iso(Newest.AddDays(-30))}&to={Iso(Newest.AddDays(-5))}"), "openTime"));

            // Naming an earlier time is refused, naming the limit.
            await AssertHistoryLimitAsync(client, $"/api/v1/markets/binance/{symbol}/klines?interval=1d&from={Iso(Newest.AddDays(-40))}");
            await AssertHistoryLimitAsync(client, $"/api/v1/markets/binance/{symbol}/trades?from={Iso(Newest.AddDays(-100))}");
            await AssertHistoryLimitAsync(client, $"/api/v1/markets/binance/{symbol}/trades?to={Iso(Newest.AddDays(-31))}");
        }

        async Task<JsonElement[]> ReadAsync(HttpClient client, string route)
        {
            using var response = await client.GetAsync($"/api/v1/markets/binance/{symbol}/{route}");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{route}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            return (await response.Content.ReadFromJsonAsync<JsonElement[]>())!;
        }
    }

    [Fact]
    public async Task A_team_plan_reads_its_five_years_of_history()
    {
        var symbol = StrategyFiles.UniqueSymbol();
        await InsertDailyHistoryAsync(symbol);
        var (userId, _, client) = await system.CreateUserAsync();
        var body = CheckoutCompleted(userId, "team");
        using (var webhook = new HttpRequestMessage(HttpMethod.Post, "/api/v1/billing/webhook") { Content = new StringContent(body, Encoding.UTF8, "application/json") })
        {
            webhook.Headers.Add("Stripe-Signature", Sign(body));
            using var applied = await system.Gateway.SendAsync(webhook);
            Assert.Equal(HttpStatusCode.OK, applied.StatusCode);
        }

        // The gateway's identity follows the plan change (accounts.changed); 1825 days reach the 400-day-old row.
        await Eventually.SucceedsAsync(async () =>
        {
            using var response = await client.GetAsync($"/api/v1/markets/binance/{symbol}/klines?interval=1d&from={Iso(Newest.AddDays(-400))}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(DaysBack, DaysOf((await response.Content.ReadFromJsonAsync<JsonElement[]>())!, "openTime"));
        }, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_backtest_reaching_before_the_plans_history_is_refused_naming_historyDays()
    {
        var symbol = StrategyFiles.UniqueSymbol();
        // One-minute klines: two hours 40 days before the newest, and the newest two hours.
        await InsertMinuteKlinesAsync(symbol, Newest.AddDays(-40), 120);
        await InsertMinuteKlinesAsync(symbol, Newest.AddHours(-2), 120);
        var (_, _, client) = await system.CreateUserAsync();
        Guid id;
        using (var content = StrategyFiles.Upload(StrategyFiles.SmaWasm, symbol, """{"fast":5,"slow":20,"quantity":0.5}"""))
        using (var created = await client.PostAsync("/api/v1/strategies", content))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        }

        using (var old = await client.PostAsJsonAsync("/api/v1/backtests", new { strategyId = id, exchange = "binance", symbol, interval = "1m", from = Newest.AddDays(-40), to = Newest }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, old.StatusCode);
            var problem = await old.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("historyDays", problem.GetProperty("limit").GetString());
            Assert.Contains("30 days", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        using var recent = await client.PostAsJsonAsync("/api/v1/backtests", new { strategyId = id, exchange = "binance", symbol, interval = "1m", from = Newest.AddHours(-2), to = Newest });
        Assert.True(recent.StatusCode == HttpStatusCode.OK, $"{(int)recent.StatusCode} {await recent.Content.ReadAsStringAsync()}");
        Assert.Equal(120, (await recent.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("bars").GetInt32());
    }

    private async Task AssertHistoryLimitAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("historyDays", problem.GetProperty("limit").GetString());
    }

    private static int[] DaysOf(JsonElement[] rows, string timeField) =>
        [.. rows.Select(r => (int)(Newest - r.GetProperty(timeField).GetDateTimeOffset()).TotalDays)];

    private static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.ToString("O", CultureInfo.InvariantCulture));

    /// <summary>One daily kline and one trade on each of <see cref="DaysBack"/>, as an import would leave them.</summary>
    private async Task InsertDailyHistoryAsync(string symbol)
    {
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        await using var batch = db.CreateBatch();
        foreach (var days in DaysBack)
        {
            var time = Newest.AddDays(-days);
            var kline = new NpgsqlBatchCommand("""
                INSERT INTO klines (exchange, symbol, interval, open_time, close_time, open, high, low, close, volume, quote_volume,
                                    trades, taker_buy_volume, taker_buy_quote_volume, closed)
                VALUES ('binance', $1, '1d', $2, $3, 100, 101, 99, 100, 1, 100, 1, 0.5, 50, true)
                """);
            kline.Parameters.Add(new() { Value = symbol });
            kline.Parameters.Add(new() { Value = time });
            kline.Parameters.Add(new() { Value = time.AddDays(1).AddMilliseconds(-1) });
            batch.BatchCommands.Add(kline);
            var trade = new NpgsqlBatchCommand("INSERT INTO trades (exchange, symbol, trade_id, time, price, quantity, side) VALUES ('binance', $1, $2, $3, 100, 1, 'buy')");
            trade.Parameters.Add(new() { Value = symbol });
            trade.Parameters.Add(new() { Value = 1000L - days });
            trade.Parameters.Add(new() { Value = time });
            batch.BatchCommands.Add(trade);
        }
        await batch.ExecuteNonQueryAsync();
    }

    private async Task InsertMinuteKlinesAsync(string symbol, DateTimeOffset start, int count)
    {
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        await using var batch = db.CreateBatch();
        for (var i = 0; i < count; i++)
        {
            var openTime = start.AddMinutes(i);
            var close = 100m + (10m * (decimal)Math.Sin(i / 10.0));
            var command = new NpgsqlBatchCommand("""
                INSERT INTO klines (exchange, symbol, interval, open_time, close_time, open, high, low, close, volume, quote_volume,
                                    trades, taker_buy_volume, taker_buy_quote_volume, closed)
                VALUES ('binance', $1, '1m', $2, $3, $4, $4 * 1.01, $4 * 0.99, $4, 10, $4 * 10, 100, 5, $4 * 5, true)
                """);
            command.Parameters.Add(new() { Value = symbol });
            command.Parameters.Add(new() { Value = openTime });
            command.Parameters.Add(new() { Value = openTime.AddMinutes(1).AddMilliseconds(-1) });
            command.Parameters.Add(new() { Value = Math.Round(close, 2) });
            batch.BatchCommands.Add(command);
        }
        await batch.ExecuteNonQueryAsync();
    }

    private static string CheckoutCompleted(Guid userId, string plan) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["id"] = $"evt_{Guid.NewGuid():N}",
        ["object"] = "event",
        ["api_version"] = "2025-10-29.clover",
        ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        ["livemode"] = false,
        ["type"] = "checkout.session.completed",
        ["data"] = new Dictionary<string, object?>
        {
            ["object"] = new Dictionary<string, object?>
            {
                ["id"] = $"cs_test_{Guid.NewGuid():N}",
                ["object"] = "checkout.session",
                ["mode"] = "subscription",
                ["client_reference_id"] = userId.ToString(),
                ["metadata"] = new Dictionary<string, string> { ["userId"] = userId.ToString(), ["plan"] = plan },
            },
        },
    });

    /// <summary>Stripe's scheme: <c>t={unix},v1=hex(HMAC-SHA256(secret, "{t}.{body}"))</c>.</summary>
    private static string Sign(string body)
    {
        var t = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(SystemFixture.StripeWebhookSecret), Encoding.UTF8.GetBytes($"{t}.{body}"));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }
}
