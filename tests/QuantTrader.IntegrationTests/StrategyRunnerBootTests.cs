using System.Net;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace QuantTrader.IntegrationTests;

/// <summary>The strategy runner starts again whatever one stored strategy holds.</summary>
[Collection(SystemCollection.Name)]
public sealed class StrategyRunnerBootTests(SystemFixture system)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Stored_strategies_that_cannot_start_are_faulted_at_boot_while_the_others_run()
    {
        await using var market = await MarketAndEngine.StartAsync(system);
        var (trader, _, client) = await system.CreateUserAsync();
        var (owner, _, ownerClient) = await system.CreateUserAsync();
        var symbol = StrategyFiles.UniqueSymbol();
        var good = await StrategyFiles.UploadAndStartAsync(client, StrategyFiles.SmaWasm, symbol);

        // Rows the API would never store, as a bug, an old version or a hand edit could leave them: a module that
        // is not WebAssembly, and a market whose name is not a valid NATS subject token.
        var notAModule = await InsertRunningAsync(owner, symbol, Encoding.UTF8.GetBytes("this is not a module"));
        var badMarket = await InsertRunningAsync(owner, "BAD SYMBOL", StrategyFiles.Bytes(StrategyFiles.SmaWat));

        await ResourceControl.RestartAsync(system, "strategy-runner");
        await market.PublishClosedKlinesAsync(symbol, StrategyFiles.CrossingCloses, DateTimeOffset.UtcNow.AddMinutes(-10));

        await Eventually.SucceedsAsync(() =>
        {
            Assert.Equal(trader, Assert.Single(market.RequestsFor(good)).UserId);
            return Task.CompletedTask;
        }, Wait);
        foreach (var (id, because) in new[] { (notAModule, "no longer validates"), (badMarket, "could not start it again") })
        {
            await Eventually.SucceedsAsync(async () =>
            {
                // One look a second stays well inside the free plan's requests per minute.
                await Task.Delay(TimeSpan.FromSeconds(1));
                var status = await StrategyFiles.GetAsync(ownerClient, id);
                Assert.Equal("faulted", status.GetProperty("status").GetString());
                Assert.Contains(because, status.GetProperty("fault").GetProperty("message").GetString(), StringComparison.Ordinal);
            }, Wait);
        }
        using var health = await system.Gateway.GetAsync("/health/strategy-runner");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    private async Task<Guid> InsertRunningAsync(Guid userId, string symbol, byte[] module)
    {
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        var id = Guid.CreateVersion7();
        await using var insert = db.CreateCommand("""
            INSERT INTO strategies (id, user_id, name, exchange, symbol, interval, parameters, module, module_format, module_sha256, status)
            VALUES ($1, $2, 'stored by hand', 'binance', $3, '1m', '{}', $4, 'wat', $5, 'running')
            """);
        insert.Parameters.Add(new() { Value = id });
        insert.Parameters.Add(new() { Value = userId });
        insert.Parameters.Add(new() { Value = symbol });
        insert.Parameters.Add(new() { Value = module });
        insert.Parameters.Add(new() { Value = SHA256.HashData(module) });
        await insert.ExecuteNonQueryAsync();
        return id;
    }
}
