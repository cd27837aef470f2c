using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using QuantTrader.Contracts.MarketData;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// PostgreSQL crashes for 30 seconds while the system is busy: trades flowing, an alert firing on them, a history
/// import running and a strategy running. Every service must ride it out in-process and catch up by itself once the database is back.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class DatabaseOutageTests(SystemFixture system)
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CatchUp = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Thirty_seconds_without_PostgreSQL_mid_stream_stop_no_process_and_lose_nothing()
    {
        var (_, _, client) = await system.CreateUserAsync();
        var symbol = MarketBus.NewSymbol();
        using var rule = await client.PostAsJsonAsync("/api/v1/alerts", new
        {
            exchange = "binance",
            symbol,
            condition = new { type = "price_crosses_above", value = 100m },
            repeat = "every",
            cooldownSeconds = 0,
        });
        Assert.Equal(HttpStatusCode.Created, rule.StatusCode);
        await using var market = await MarketAndEngine.StartAsync(system);
        var strategySymbol = StrategyFiles.UniqueSymbol();
        var strategy = await StrategyFiles.UploadAndStartAsync(client, StrategyFiles.SmaWasm, strategySymbol);
        var processes = await ServiceProcessesAsync();

        // 99, 101, 99, 101, …: every second trade crosses above 100, before, during and after the outage.
        await using var bus = await MarketBus.ConnectAsync(system);
        var published = 0;
        async Task PublishForAsync(TimeSpan span)
        {
            var until = DateTimeOffset.UtcNow + span;
            while (DateTimeOffset.UtcNow < until)
            {
                published++;
                // Stamped with the wall clock, as the ingestor does: the kline service closes a minute by the clock too.
                await bus.PublishTradeAsync(new Trade("binance", symbol, published, published % 2 == 1 ? 99m : 101m, 1m, TakerSide.Buy,
                    DateTimeOffset.UtcNow));
                await Task.Delay(50);
            }
        }

        await PublishForAsync(TimeSpan.FromSeconds(5));
        var (importSymbol, importId, importer) = await StartImportAsync(ImportedTrades);
        await ResourceControl.KillAsync(system, "postgres");
        await PublishForAsync(Outage);
        await ResourceControl.StartAsync(system, "postgres");
        await PublishForAsync(TimeSpan.FromSeconds(5));
        var crossings = published / 2;

        await Eventually.SucceedsAsync(async () => Assert.Equal(published, await StoredAsync(
            "SELECT count(*) FROM trades WHERE exchange = 'binance' AND symbol = $1", symbol)), CatchUp);
        // Every trade is in a closed one-minute kline: the kline service's checkpoints failed for 30 s, its klines did not.
        await Eventually.SucceedsAsync(async () => Assert.Equal(published, await StoredAsync(
            "SELECT coalesce(sum(volume), 0)::bigint FROM klines WHERE exchange = 'binance' AND symbol = $1 AND interval = '1m' AND closed", symbol)),
            CatchUp);
        await Eventually.SucceedsAsync(async () =>
        {
            var events = await client.GetFromJsonAsync<JsonElement>($"/api/v1/alerts/events?limit=1000");
            Assert.Equal(crossings, events.EnumerateArray().Count());
        }, CatchUp, TimeSpan.FromSeconds(2));

        // The import went on through the outage and completed with every row.
        await Eventually.SucceedsAsync(async () =>
        {
            var status = await importer.GetFromJsonAsync<JsonElement>($"/api/v1/imports/{importId}");
            Assert.Equal(("completed", ImportedTrades), (status.GetProperty("status").GetString(), status.GetProperty("rows").GetInt64()));
        }, CatchUp, TimeSpan.FromSeconds(2));
        await Eventually.SucceedsAsync(async () => Assert.Equal(ImportedTrades, await StoredAsync(
            "SELECT count(*) FROM trades WHERE exchange = 'binance' AND symbol = $1", importSymbol)), CatchUp);

        // The strategy kept running through the outage and still trades on the klines that come after it.
        await market.PublishClosedKlinesAsync(strategySymbol, StrategyFiles.CrossingCloses, DateTimeOffset.UtcNow.AddMinutes(-10));
        await Eventually.SucceedsAsync(() =>
        {
            Assert.Single(market.RequestsFor(strategy));
            return Task.CompletedTask;
        }, CatchUp);
        Assert.Equal("running", (await StrategyFiles.GetAsync(client, strategy)).GetProperty("status").GetString());

        Assert.Equal(processes, await ServiceProcessesAsync());
    }

    private const int ImportedTrades = 100_000;

    /// <summary>An operator's import of that many trades (Binance's trades CSV, 2021), accepted and queued.</summary>
    private async Task<(string Symbol, Guid ImportId, HttpClient Importer)> StartImportAsync(int trades)
    {
        var (_, _, importer) = await system.CreateOperatorAsync();
        var (symbol, b) = HistoryImportTests.FreshSymbol();
        var csv = new System.Text.StringBuilder();
        var start = new DateTimeOffset(2021, 4, 4, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1000;
        for (var i = 1; i <= trades; i++)
        {
            csv.Append(i).Append(",2064.74,0.5,1032.37,").Append(start + i * 1000L).Append(i % 3 == 0 ? ",True,True\n" : ",False,True\n");
        }

        using var response = await importer.PostAsync($"/api/v1/imports?exchange=binance&symbol={symbol}&format=binance-trades&base={b}&quote=USDT",
            new StringContent(csv.ToString()));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (symbol, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("importId").GetGuid(), importer);
    }

    /// <summary>Each service's process id: a service that exited and was started again would have a new one.</summary>
    private async Task<Dictionary<string, int>> ServiceProcessesAsync()
    {
        var processes = new Dictionary<string, int>();
        foreach (var service in SystemFixture.Services.Append("gateway"))
        {
            processes[service] = await ResourceControl.ServiceProcessIdAsync(system, service);
        }

        return processes;
    }

    private async Task<long> StoredAsync(string sql, string symbol)
    {
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        await using var count = db.CreateCommand(sql);
        count.Parameters.Add(new() { Value = symbol });
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
