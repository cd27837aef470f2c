using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using QuantTrader.AppHost.Infrastructure;
using QuantTrader.Storage;

namespace QuantTrader.LoadTest;

/// <summary>
/// A throw-away PostgreSQL cluster for an isolated benchmark, set up as the AppHost's Infrastructure/Postgres.cs does
/// (the machine's newest server binaries, run as the postgres user when we are root, TCP on 127.0.0.1 only, no unix
/// socket, max_connections=200, otherwise the defaults), on a free port in a temporary folder, with the QuantTrader
/// database migrated by the service's own <see cref="SchemaMigrator"/> (pg_partman partitions where it is installed).
/// Stopped (immediate) and removed on dispose. Trust authentication: it listens on loopback only and lives for one run.
/// </summary>
internal sealed class LocalPostgres : IAsyncDisposable
{
    private const string User = "quanttrader";
    private const string Database = "quanttrader";
    private readonly string _bin;
    private readonly string _root;
    private readonly string _cluster;
    private readonly bool _asPostgres;

    private LocalPostgres(string bin, string root, bool asPostgres, int port)
    {
        _bin = bin;
        _root = root;
        _cluster = Path.Combine(root, "cluster");
        _asPostgres = asPostgres;
        ConnectionString = $"Host=127.0.0.1;Port={port};Username={User};Database={Database}";
    }

    public string ConnectionString { get; }

    public static async Task<LocalPostgres> StartAsync(CancellationToken ct)
    {
        var bin = PostgresBinaries.Find(); // the AppHost's lookup: QUANTTRADER_PG_BIN, else the newest under /usr/lib/postgresql
        var root = Path.Combine(Path.GetTempPath(), $"quanttrader-bench-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        var asPostgres = Environment.UserName == "root";
        var port = FreePort();
        var pg = new LocalPostgres(bin, root, asPostgres, port);
        try
        {
            if (asPostgres)
            {
                await PostgresCluster.RunAsync("chown", ["postgres:postgres", root], ct);
            }
            await pg.PgAsync("initdb", ["-D", pg._cluster, "-U", User, "--auth=trust", "--encoding=UTF8", "--locale=C"], ct);
            var options = string.Join(' ', "-c listen_addresses=127.0.0.1", "-c unix_socket_directories=''",
                $"-c port={port.ToString(CultureInfo.InvariantCulture)}", "-c max_connections=200",
                // For profiling, e.g. "-c log_min_duration_statement=0"; the log is kept where QUANTTRADER_BENCH_PG_LOG says.
                Environment.GetEnvironmentVariable("QUANTTRADER_BENCH_PG_OPTIONS") ?? "");
            await pg.PgAsync("pg_ctl", ["-D", pg._cluster, "-l", Path.Combine(root, "postgres.log"), "-o", options, "-w", "-t", "60", "start"], ct);

            await using (var admin = new NpgsqlConnection($"Host=127.0.0.1;Port={port};Username={User};Database=postgres;Pooling=false"))
            {
                await admin.OpenAsync(ct);
                await using var create = new NpgsqlCommand($"CREATE DATABASE {Database}", admin);
                await create.ExecuteNonQueryAsync(ct);
            }
            await using (var dataSource = NpgsqlDataSource.Create(pg.ConnectionString))
            {
                await new SchemaMigrator(dataSource).MigrateAsync(ct);
            }
            return pg;
        }
        catch
        {
            await pg.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (File.Exists(Path.Combine(_cluster, "postmaster.pid")))
        {
            try
            {
                await PgAsync("pg_ctl", ["-D", _cluster, "-m", "immediate", "-w", "stop"], CancellationToken.None);
            }
            catch (InvalidOperationException ex)
            {
                Console.Error.WriteLine($"could not stop the benchmark's PostgreSQL in {_cluster}: {ex.Message}");
                return; // leave the folder: the cluster may still be running
            }
        }
        if (Environment.GetEnvironmentVariable("QUANTTRADER_BENCH_PG_LOG") is { Length: > 0 } keep)
        {
            File.Copy(Path.Combine(_root, "postgres.log"), keep, overwrite: true);
        }
        Directory.Delete(_root, recursive: true);
    }

    private Task PgAsync(string tool, string[] args, CancellationToken ct) =>
        _asPostgres
            ? PostgresCluster.RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. args], ct)
            : PostgresCluster.RunAsync(Path.Combine(_bin, tool), args, ct);

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
