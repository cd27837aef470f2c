using Npgsql;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Issue 7's crash test: the persistence service SIGKILLed while trades stream into MARKET_RAW, trades still published
/// while it is down, then started again. Its durable consumer resumes where the last commit was acked, redelivers what
/// was committed but not yet acked, and the table's key makes that harmless: every published trade is stored once.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class PersistenceCrashTests(SystemFixture system)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Persistence_killed_mid_stream_stores_every_trade_exactly_once_after_it_is_started_again()
    {
        await using var bus = await Bus.ConnectAsync(system);
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        var symbol = "K" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant() + "USDT";
        var subject = Subjects.MarketRaw("binance", symbol);
        var start = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        // A steady stream (~200 trades/s), each publish acknowledged by JetStream: an acked trade is one persistence owes.
        long lastAcked = 0;
        using var stopPublishing = new CancellationTokenSource();
        var publisher = Task.Run(async () =>
        {
            using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
            var id = 0L;
            while (!stopPublishing.IsCancellationRequested && await tick.WaitForNextTickAsync(CancellationToken.None))
            {
                for (var i = 0; i < 10; i++)
                {
                    id++;
                    var trade = new Trade("binance", symbol, id, 100m + id % 97, 0.001m * (1 + id % 5), id % 2 == 0 ? TakerSide.Buy : TakerSide.Sell, start.AddMilliseconds(id));
                    await bus.PublishAsync(subject, trade, trade.MessageId, ContractsJsonContext.Wire.Trade);
                    Interlocked.Exchange(ref lastAcked, id);
                }
            }
        });

        try
        {
            // Mid-stream: persistence is storing this symbol's trades when it dies.
            await Eventually.SucceedsAsync(async () => Assert.True(await StoredAsync(db, symbol) >= 200), Wait);
            await ResourceControl.KillAsync(system, "persistence");
            var storedWhenKilled = await StoredAsync(db, symbol);
            var ackedWhenKilled = Interlocked.Read(ref lastAcked);

            // Trades keep coming while it is down: JetStream holds them for the durable consumer.
            await Eventually.SucceedsAsync(() =>
            {
                Assert.True(Interlocked.Read(ref lastAcked) >= ackedWhenKilled + 400);
                return Task.CompletedTask;
            }, Wait);
            Assert.False(publisher.IsFaulted, publisher.Exception?.ToString());

            await ResourceControl.StartAsync(system, "persistence");
            var ackedWhenStarted = Interlocked.Read(ref lastAcked);
            await Eventually.SucceedsAsync(() =>
            {
                Assert.True(Interlocked.Read(ref lastAcked) >= ackedWhenStarted + 400);
                return Task.CompletedTask;
            }, Wait);

            await stopPublishing.CancelAsync();
            await publisher;
            var published = Interlocked.Read(ref lastAcked);
            Assert.True(storedWhenKilled < published, $"stored {storedWhenKilled} of {published} before the kill: not mid-stream");

            // Every acknowledged trade ends up stored: ids 1..published, each exactly once.
            await Eventually.SucceedsAsync(async () => Assert.Equal(published, await StoredAsync(db, symbol)), Wait);
            await using var check = db.CreateCommand(
                "SELECT count(DISTINCT trade_id), min(trade_id), max(trade_id) FROM trades WHERE exchange = 'binance' AND symbol = $1");
            check.Parameters.Add(new() { Value = symbol });
            await using var reader = await check.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(published, reader.GetInt64(0));
            Assert.Equal(1L, reader.GetInt64(1));
            Assert.Equal(published, reader.GetInt64(2));
        }
        finally
        {
            await stopPublishing.CancelAsync();
            await publisher.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private static async Task<long> StoredAsync(NpgsqlDataSource db, string symbol)
    {
        await using var count = db.CreateCommand("SELECT count(*) FROM trades WHERE exchange = 'binance' AND symbol = $1");
        count.Parameters.Add(new() { Value = symbol });
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
