using Npgsql;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// The strategy runner as several replicas, each running the strategies of the user partitions it owns: a crash
/// (kill -9) and a rolling update (SIGTERM) move strategies to another replica, and no strategy misses a kline, sees
/// one twice or sends an order twice.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class StrategyReplicaTests(SystemFixture system)
{
    private const string Service = "strategy-runner";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);
    private static readonly decimal[] Closes = [101m, 102m, 103m];

    [Fact]
    public async Task Strategies_of_users_on_both_replicas_see_each_kline_once_through_a_crash_and_a_hand_over()
    {
        await using var market = await MarketAndEngine.StartAsync(system);
        await using var owners = await PartitionOwners.ConnectAsync(system, Service);
        var symbol = StrategyFiles.UniqueSymbol();
        var start = new DateTimeOffset(DateTimeOffset.UtcNow.UtcTicks - DateTimeOffset.UtcNow.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero).AddHours(-2);
        var published = new List<DateTimeOffset>();
        async Task PublishAsync()
        {
            var from = start.AddMinutes(published.Count);
            await market.PublishClosedKlinesAsync(symbol, Closes, from);
            published.AddRange(Closes.Select((_, i) => from.AddMinutes(i)));
        }

        var second = await ExtraReplica.StartAsync(system, Service);
        ExtraReplica? third = null;
        var originalStopped = false;
        try
        {
            var secondOwns = await owners.WaitForSplitAsync(second.ProcessId, Wait);
            var strategies = new List<Guid>();
            var onSecond = 0;
            var onFirst = 0;
            for (var i = 0; i < 24 && (onSecond < 2 || onFirst < 2); i++)
            {
                var (userId, _, client) = await system.CreateUserAsync();
                var mine = secondOwns.Contains(Partitions.OfUser(userId));
                if (mine ? onSecond >= 2 : onFirst >= 2)
                {
                    continue;
                }
                _ = mine ? onSecond++ : onFirst++;
                strategies.Add(await StrategyFiles.UploadAndStartAsync(client, "wat/every-kline.wat", symbol, "{}"));
            }
            Assert.True(onSecond >= 2 && onFirst >= 2, $"users on the second replica's partitions: {onSecond}, on the first's: {onFirst}");

            // Both replicas run their strategies.
            await PublishAsync();
            await EachSawAsync(market, strategies, published);

            // A crash: the second's partitions lapse to the first, which resumes them from their checkpoints.
            await second.KillAsync();
            await PublishAsync();
            await EachSawAsync(market, strategies, published);

            // A rolling update: a third replica takes partitions over, then SIGTERM of the first hands it the rest,
            // with klines arriving meanwhile.
            third = await ExtraReplica.StartAsync(system, Service);
            await owners.WaitForSplitAsync(third.ProcessId, Wait);
            await PublishAsync();
            var firstProcess = await ResourceControl.ServiceProcessIdAsync(system, Service);
            var stopping = ResourceControl.StopAsync(system, Service);
            originalStopped = true;
            await PublishAsync();
            await stopping;
            await owners.WaitUntilNoneOwnedByAsync(firstProcess, Wait);
            await PublishAsync();
            await EachSawAsync(market, strategies, published);

            await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
            foreach (var id in strategies)
            {
                // One order per kline, each sent once, named by its kline (strategy, open time, index in the step).
                var requests = market.RequestsFor(id);
                var expected = published.Select(t => $"{id:N}-k{t.ToUnixTimeMilliseconds()}-0").Order().ToList();
                Assert.Equal(expected, requests.Select(r => r.ClientOrderId!).Order().ToList());
                // Each kline's step (its log line) committed once.
                Assert.Equal(published.Count, await CountAsync(db, "SELECT count(*) FROM strategy_logs WHERE strategy_id = $1 AND message = 'every-kline: kline'", id));
                Assert.Equal(published.Count, await CountAsync(db, "SELECT count(*) FROM strategy_orders WHERE strategy_id = $1", id));
                Assert.Equal(1L, await CountAsync(db, "SELECT count(*) FROM strategies WHERE id = $1 AND status = 'running'", id));
            }
        }
        finally
        {
            if (originalStopped)
            {
                await ResourceControl.StartAsync(system, Service);
            }
            if (third is not null)
            {
                await third.DisposeAsync();
            }
            await second.DisposeAsync();
        }
    }

    private static async Task EachSawAsync(MarketAndEngine market, IReadOnlyList<Guid> strategies, IReadOnlyList<DateTimeOffset> published) =>
        await Eventually.SucceedsAsync(() =>
        {
            foreach (var id in strategies)
            {
                Assert.Equal(published.Count, market.RequestsFor(id).Select(r => r.ClientOrderId).Distinct().Count());
            }
            return Task.CompletedTask;
        }, Wait, TimeSpan.FromMilliseconds(500));

    private static async Task<long> CountAsync(NpgsqlDataSource db, string sql, Guid id)
    {
        await using var command = db.CreateCommand(sql);
        command.Parameters.Add(new() { Value = id });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
