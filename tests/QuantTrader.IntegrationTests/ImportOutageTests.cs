using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Net;
using Npgsql;
using QuantTrader.Ingestor.Imports;
using QuantTrader.Ingestor.Publishing;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Issue 16 item 10, the ingestor's part: the import runner (the one inside the ingestor, whose host also runs the live
/// feed) driven directly against a PostgreSQL that becomes unreachable and comes back (a relay to the real one). The
/// runner never stops: the import waits for the database and resumes, or — past its patience — is recorded as failed
/// once the database answers again.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class ImportOutageTests(SystemFixture system)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task An_import_during_a_database_outage_waits_and_completes_with_every_kline_once_the_database_is_back()
    {
        await using var rig = await Rig.StartAsync(system, TimeSpan.FromMinutes(10));
        var (id, symbol) = await rig.CreateImportAsync(rows: 3000);

        rig.Relay.Close();
        rig.Runner.Enqueue(rig.Job(id, symbol));
        await Task.Delay(TimeSpan.FromSeconds(5)); // the outage, with the import started in it
        Assert.False(rig.Runner.ExecuteTask!.IsCompleted, "the runner stopped during the outage");
        rig.Relay.Open();

        var (status, rows, _) = await rig.FinishedAsync(id);
        Assert.Equal("completed", status);
        Assert.Equal(3000, rows);
        Assert.Equal(3000, await rig.StoredKlinesAsync(symbol));
        Assert.False(rig.Runner.ExecuteTask!.IsCompleted);
        Assert.False(File.Exists(rig.Job(id, symbol).FilePath));
    }

    [Fact]
    public async Task An_import_that_outlasts_its_patience_is_recorded_failed_when_the_database_is_back_and_the_runner_goes_on()
    {
        await using var rig = await Rig.StartAsync(system, TimeSpan.FromSeconds(2));
        var (id, symbol) = await rig.CreateImportAsync(rows: 1500);

        rig.Relay.Close();
        rig.Runner.Enqueue(rig.Job(id, symbol));
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.False(rig.Runner.ExecuteTask!.IsCompleted, "the runner stopped during the outage");
        rig.Relay.Open();

        var (status, _, error) = await rig.FinishedAsync(id);
        Assert.Equal("failed", status);
        Assert.StartsWith("import failed after", error);

        // And the next import runs as usual.
        var (next, nextSymbol) = await rig.CreateImportAsync(rows: 10);
        rig.Runner.Enqueue(rig.Job(next, nextSymbol));
        Assert.Equal("completed", (await rig.FinishedAsync(next)).Status);
    }

    private sealed class Rig(NpgsqlDataSource real, NpgsqlDataSource viaRelay, TcpRelay relay, NatsConnection nats, ImportRunner runner, Guid userId, string folder)
        : IAsyncDisposable
    {
        public TcpRelay Relay => relay;

        public ImportRunner Runner => runner;

        public static async Task<Rig> StartAsync(SystemFixture system, TimeSpan databasePatience)
        {
            var (userId, _, _) = await system.CreateUserAsync();
            var builder = new NpgsqlConnectionStringBuilder(await system.ConnectionStringAsync("postgres"));
            var real = NpgsqlDataSource.Create(builder.ConnectionString);
            var relay = new TcpRelay(builder.Host!, builder.Port);
            relay.Open();
            var viaRelay = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(builder.ConnectionString)
            {
                Host = "127.0.0.1", Port = relay.Port, Timeout = 2, CommandTimeout = 5,
            }.ConnectionString);
            var nats = new NatsConnection(new NatsOpts { Url = await system.ConnectionStringAsync("nats") });
            var folder = Path.Combine(Path.GetTempPath(), $"quanttrader-outage-test-{Guid.NewGuid():N}");
            var options = Options.Create(new ImportOptions { TempDirectory = folder, DatabasePatience = databasePatience });
            var uploads = new ImportUploads(new ImportQuota(viaRelay, TimeProvider.System), options, TimeProvider.System, NullLogger<ImportUploads>.Instance);
            var runner = new ImportRunner(new ImportStore(viaRelay),
                new TradePublisher(nats.CreateJetStreamContext(), NullLogger<TradePublisher>.Instance, TimeProvider.System, 200),
                uploads, options, TimeProvider.System, NullLogger<ImportRunner>.Instance);
            // An import of a "previous run", still queued: the runner's start-up marks it failed, and only then is the
            // rig ready (an import queued before that would be taken for one of the previous run's).
            var stale = Guid.CreateVersion7();
            await new ImportStore(real).CreateAsync(stale, userId, "binance", "BTCUSDT", ImportFormats.Klines, CancellationToken.None);
            await runner.StartAsync(CancellationToken.None);
            var rig = new Rig(real, viaRelay, relay, nats, runner, userId, folder);
            var (status, _, error) = await rig.FinishedAsync(stale);
            Assert.Equal("failed", status);
            Assert.StartsWith("interrupted", error);
            return rig;
        }

        /// <summary>A queued kline import of a fresh symbol, recorded in the real database, its file in the runner's folder.</summary>
        public async Task<(Guid Id, string Symbol)> CreateImportAsync(int rows)
        {
            var id = Guid.CreateVersion7();
            var symbol = $"O{Guid.NewGuid().ToString("N")[..8].ToUpperInvariant()}USDT";
            await new ImportStore(real).CreateAsync(id, userId, "binance", symbol, ImportFormats.Klines, CancellationToken.None);
            Directory.CreateDirectory(folder);
            var open = new DateTimeOffset(2021, 4, 4, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
            await File.WriteAllLinesAsync(Job(id, symbol).FilePath, Enumerable.Range(0, rows).Select(i =>
            {
                var t = open + i * 60_000L;
                return $"{t},100,101,99,100.5,2,{t + 59_999},201,10,1,100,0";
            }));
            return (id, symbol);
        }

        public ImportJob Job(Guid id, string symbol) =>
            new(id, userId, "binance", symbol, ImportFormats.Klines, Path.Combine(folder, $"import-{id:N}.csv"));

        public async Task<(string Status, long Rows, string? Error)> FinishedAsync(Guid id)
        {
            (string, long, string?) result = default;
            await Eventually.SucceedsAsync(async () =>
            {
                var status = await new ImportStore(real).FindAsync(id, userId, CancellationToken.None);
                Assert.NotNull(status);
                Assert.Contains(status.Status, new[] { "completed", "failed" });
                result = (status.Status, status.Rows, status.FirstError);
            }, Wait);
            return result;
        }

        public async Task<long> StoredKlinesAsync(string symbol)
        {
            await using var cmd = real.CreateCommand("SELECT count(*) FROM klines WHERE exchange = 'binance' AND symbol = $1 AND interval = '1m'");
            cmd.Parameters.Add(new() { Value = symbol });
            return (long)(await cmd.ExecuteScalarAsync())!;
        }

        public async ValueTask DisposeAsync()
        {
            await runner.StopAsync(CancellationToken.None);
            runner.Dispose();
            await relay.DisposeAsync();
            await viaRelay.DisposeAsync();
            await real.DisposeAsync();
            await nats.DisposeAsync();
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }
}
