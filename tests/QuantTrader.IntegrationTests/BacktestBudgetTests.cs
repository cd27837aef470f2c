using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace QuantTrader.IntegrationTests;

/// <summary>A backtest spends at most its plan's fuel and slots, and stops when its client goes away.</summary>
[Collection(SystemCollection.Name)]
public sealed class BacktestBudgetTests(SystemFixture system)
{
    private const string FuelBurner = "wat/hostile/fuel-burner.wat";

    /// <summary>
    /// 3,000 bars × 7.5 M fuel is 22.5 G, over the free plan's 20 G: the burner runs for tens of seconds and its
    /// budget ends it before its last bar.
    /// </summary>
    private const int Bars = 3000;

    private static readonly DateTimeOffset Start = BacktestTests.Start;

    private async Task<(HttpClient Client, Guid Id, object Request)> BurnerAsync()
    {
        var symbol = StrategyFiles.UniqueSymbol();
        await BacktestTests.InsertWaveAsync(system, symbol, Bars);
        var (_, _, client) = await system.CreateUserAsync();
        client.Timeout = TimeSpan.FromSeconds(120);
        using var content = StrategyFiles.Upload(FuelBurner, symbol, "{}");
        using var created = await client.PostAsync("/api/v1/strategies", content);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        return (client, id, new { strategyId = id, from = Start, to = Start.AddMinutes(Bars) });
    }

    /// <summary>Two bars: done in moments once a slot is free.</summary>
    private static Task<HttpResponseMessage> ShortBacktestAsync(HttpClient client, Guid id) =>
        client.PostAsJsonAsync("/api/v1/backtests", new { strategyId = id, from = Start, to = Start.AddMinutes(2) });

    /// <summary>
    /// Sends the long run and returns it once it holds the account's one slot: a short backtest is then refused with
    /// 429 concurrency-limit naming concurrentBacktests. A probe can take the slot first and the long run is then
    /// refused itself: it is sent again until it is the one holding the slot.
    /// </summary>
    private static async Task<Task<HttpResponseMessage>> HoldTheSlotAsync(HttpClient client, Guid id, object request, CancellationToken ct)
    {
        Task<HttpResponseMessage>? running = null;
        await Eventually.SucceedsAsync(async () =>
        {
            if (running is null || running.IsCompleted)
            {
                if (running is { IsCompletedSuccessfully: true })
                {
                    running.Result.Dispose();
                }
                running = client.PostAsJsonAsync("/api/v1/backtests", request, ct);
                await Task.Delay(200);
            }
            using var probe = await ShortBacktestAsync(client, id);
            Assert.Equal(HttpStatusCode.TooManyRequests, probe.StatusCode);
            Assert.NotNull(probe.Headers.RetryAfter);
            var problem = await probe.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("https://quanttrader.dev/problems/concurrency-limit", problem.GetProperty("type").GetString());
            Assert.Equal("concurrentBacktests", problem.GetProperty("limit").GetString());
            Assert.False(running.IsCompleted);
        }, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500));
        return running!;
    }

    [Fact]
    public async Task A_second_backtest_on_a_free_plan_is_a_429_and_the_first_stops_at_its_fuel_budget()
    {
        var (client, id, request) = await BurnerAsync();
        var me = await client.GetFromJsonAsync<JsonElement>("/api/v1/accounts/me");
        Assert.Equal(1, me.GetProperty("limits").GetProperty("concurrentBacktests").GetInt32());
        var budget = me.GetProperty("limits").GetProperty("backtestFuel").GetInt64();

        // While the first runs, a second is refused naming the limit (HoldTheSlotAsync checks the problem).
        var first = await HoldTheSlotAsync(client, id, request, CancellationToken.None);

        using var response = await first;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        using var result = JsonDocument.Parse(body);
        var stopped = result.RootElement.GetProperty("stopped");
        Assert.Equal("backtestFuel", stopped.GetProperty("limit").GetString());
        Assert.Contains($"its budget of {budget}", stopped.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.InRange(result.RootElement.GetProperty("bars").GetInt32(), 1, Bars - 1);
        Assert.InRange(result.RootElement.GetProperty("fuel").GetDecimal(), budget, budget + 10_000_000m);
        Assert.Equal(JsonValueKind.Null, result.RootElement.GetProperty("fault").ValueKind);

        // Its slot is free again.
        using var third = await ShortBacktestAsync(client, id);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
    }

    [Fact]
    public async Task A_client_that_goes_away_mid_backtest_frees_its_slot_long_before_the_run_would_have_ended()
    {
        var (client, id, request) = await BurnerAsync();

        using (var gone = new CancellationTokenSource())
        {
            var abandoned = await HoldTheSlotAsync(client, id, request, gone.Token);
            await gone.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        }

        // The full run takes tens of seconds (about 50 s on the reference machine, see the test above); without the
        // cancellation reaching it the slot would stay taken that long. It comes back within a few.
        await Eventually.SucceedsAsync(async () =>
        {
            using var next = await ShortBacktestAsync(client, id);
            Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        }, TimeSpan.FromSeconds(15));
    }
}
