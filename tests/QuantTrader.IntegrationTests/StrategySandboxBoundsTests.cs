using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace QuantTrader.IntegrationTests;

/// <summary>Strategies from many accounts cannot grow the shared strategy runner past its documented bound.</summary>
[Collection(SystemCollection.Name)]
public sealed class StrategySandboxBoundsTests(SystemFixture system)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    private const string TableBomb = "wat/hostile/table-bomb.wat";
    private const string MemoryBomb = "wat/hostile/memory-bomb.wat";

    /// <summary>
    /// The documented bound (README, "Strategies and backtests"): a strategy's Wasm state is at most its 16 MiB
    /// memory plus a 10,000-element table; 128 MiB is headroom for the runtime (compiled code, GC, buffers).
    /// One unbounded table bomb alone took the runner up by 600 MiB.
    /// </summary>
    private static long BoundFor(int strategies) => strategies * 17L * 1024 * 1024 + 128L * 1024 * 1024;

    [Fact]
    public async Task Table_and_memory_bombs_from_ten_accounts_at_once_keep_the_runner_within_its_bound_while_a_good_strategy_trades()
    {
        await using var market = await MarketAndEngine.StartAsync(system);
        var symbol = StrategyFiles.UniqueSymbol();
        var runner = await ResourceControl.ServiceProcessIdAsync(system, "strategy-runner");
        ResetPeakResidentMemory(runner);
        var before = ResidentBytes(runner, "VmRSS");

        // Ten free accounts (one strategy each) upload and start their bombs at the same moment.
        var bombs = await Task.WhenAll(Enumerable.Range(0, 10).Select(async i =>
        {
            var (_, _, attacker) = await system.CreateUserAsync();
            var file = i % 2 == 0 ? TableBomb : MemoryBomb;
            return (Client: attacker, File: file, Id: await StrategyFiles.UploadAndStartAsync(attacker, file, symbol, "{}"));
        }));
        var (trader, _, client) = await system.CreateUserAsync();
        var good = await StrategyFiles.UploadAndStartAsync(client, StrategyFiles.SmaWasm, symbol);

        await market.PublishClosedKlinesAsync(symbol, StrategyFiles.CrossingCloses, DateTimeOffset.UtcNow.AddMinutes(-10));

        await Eventually.SucceedsAsync(() =>
        {
            Assert.Equal(trader, Assert.Single(market.RequestsFor(good)).UserId);
            return Task.CompletedTask;
        }, Wait);
        foreach (var bomb in bombs)
        {
            await Eventually.SucceedsAsync(async () =>
            {
                var status = await StrategyFiles.GetAsync(bomb.Client, bomb.Id);
                if (bomb.File == MemoryBomb)
                {
                    Assert.Equal("faulted", status.GetProperty("status").GetString());
                    Assert.Equal("memory", status.GetProperty("fault").GetProperty("reason").GetString());
                }
                else
                {
                    // Its grows were answered −1; it handled every kline and runs on with a small table.
                    Assert.Equal("running", status.GetProperty("status").GetString());
                    Assert.NotEqual(JsonValueKind.Null, status.GetProperty("lastKlineOpenTime").ValueKind);
                }
            }, Wait);
        }
        Assert.Equal("running", (await StrategyFiles.GetAsync(client, good)).GetProperty("status").GetString());

        var peak = ResidentBytes(runner, "VmHWM");
        Assert.True(peak - before < BoundFor(bombs.Length + 1),
            $"the runner's peak resident memory grew by {(peak - before) / (1024 * 1024)} MiB; the bound is {BoundFor(bombs.Length + 1) / (1024 * 1024)} MiB");
        using var health = await system.Gateway.GetAsync("/health/strategy-runner");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task A_module_that_declares_a_huge_table_is_refused_at_upload_naming_the_limit()
    {
        var (_, _, client) = await system.CreateUserAsync();

        using var content = StrategyFiles.Upload("wat/hostile/declared-table-bomb.wat", StrategyFiles.UniqueSymbol(), "{}");
        using var response = await client.PostAsync("/api/v1/strategies", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("module", problem.GetProperty("field").GetString());
        Assert.Contains("exceeds table limits", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty((await client.GetFromJsonAsync<JsonElement>("/api/v1/strategies")).EnumerateArray());
    }

    /// <summary>Writing 5 to clear_refs resets the peak resident size (VmHWM) so the test sees only its own peak.</summary>
    private static void ResetPeakResidentMemory(int pid) => File.WriteAllText($"/proc/{pid}/clear_refs", "5");

    private static long ResidentBytes(int pid, string field)
    {
        var line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        var kilobytes = long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        return kilobytes * 1024;
    }
}
