using System.Diagnostics;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace QuantTrader.AppHost.Infrastructure;

/// <summary>
/// The machine's own PostgreSQL (15 on Debian) as a local process, so the system runs where no container
/// runtime exists. Its connection string points at the QuantTrader database.
/// </summary>
public sealed class LocalPostgresResource(string name, string command, string workingDirectory, string databaseName, string password)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public const string User = "quanttrader";

    public EndpointReference Tcp => new(this, "tcp");
    public string DatabaseName => databaseName;
    internal string Password => password;

    public ReferenceExpression ConnectionStringExpression => ConnectionString(databaseName);

    internal ReferenceExpression ConnectionString(string database) => ReferenceExpression.Create(
        $"Host={Tcp.Property(EndpointProperty.Host)};Port={Tcp.Property(EndpointProperty.Port)};Username={User};Password={password};Database={database}");
}

public static class PostgresResourceExtensions
{
    /// <summary>
    /// PostgreSQL holding the QuantTrader database. Returns the resource services reference as
    /// <c>ConnectionStrings:{databaseName}</c>.
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddQuantTraderDatabase(
        this IDistributedApplicationBuilder builder, string name, string databaseName, bool useContainers, string dataDirectory)
    {
        if (useContainers)
        {
            // TimescaleDB image: the migrations detect the extension and use hypertables there.
            return builder.AddPostgres(name)
                .WithImage("timescale/timescaledb", "2.17.2-pg16")
                .WithImageRegistry("docker.io")
                // The image's own postgres user (Alpine: 70), and its socket directory under a read-only root (Kubernetes).
                .WithAnnotation(new Kubernetes.ContainerUserAnnotation(70))
                .WithAnnotation(new Kubernetes.WritableDirectoryAnnotation("/var/run/postgresql"))
                .WithDataVolume("quanttrader-postgres")
                .AddDatabase(databaseName);
        }

        var binDirectory = PostgresBinaries.Find();
        var clusterDirectory = Path.Combine(dataDirectory, "postgres");
        var password = PostgresCluster.EnsurePassword(dataDirectory);
        var asPostgresUser = Environment.UserName == "root";

        // PostgreSQL refuses to run as root: run it as the postgres user when the AppHost is root.
        var command = asPostgresUser ? "runuser" : Path.Combine(binDirectory, "postgres");
        var postgres = new LocalPostgresResource(name, command, dataDirectory, databaseName, password);

        builder.Eventing.Subscribe<BeforeStartEvent>((_, ct) =>
            PostgresCluster.InitializeOnceAsync(binDirectory, clusterDirectory, password, asPostgresUser, ct));

        var healthCheckKey = $"{name}-accepts-connections";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey,
            _ => new PostgresReadyCheck(postgres),
            failureStatus: HealthStatus.Unhealthy,
            tags: null));

        return builder.AddResource(postgres)
            .WithEndpoint(name: "tcp", scheme: "tcp", env: "PGPORT", isProxied: false) // direct, as NATS (see Nats.cs)
            .WithArgs(context =>
            {
                if (asPostgresUser)
                {
                    context.Args.Add("-u");
                    context.Args.Add("postgres");
                    context.Args.Add("--");
                    context.Args.Add(Path.Combine(binDirectory, "postgres"));
                }
                context.Args.Add("-D");
                context.Args.Add(clusterDirectory);
                context.Args.Add("-c");
                context.Args.Add("listen_addresses=127.0.0.1");
                // No unix socket: several clusters (a run and a test run) can live on one machine.
                context.Args.Add("-c");
                context.Args.Add("unix_socket_directories=");
                context.Args.Add("-c");
                context.Args.Add("max_connections=200");
            })
            .WithHealthCheck(healthCheckKey);
    }
}

/// <summary>Finds PostgreSQL's server binaries: <c>QUANTTRADER_PG_BIN</c>, else the newest under /usr/lib/postgresql.</summary>
internal static class PostgresBinaries
{
    public static string Find()
    {
        var configured = Environment.GetEnvironmentVariable("QUANTTRADER_PG_BIN");
        if (!string.IsNullOrEmpty(configured))
        {
            return configured;
        }
        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var newest = Directory.GetDirectories(debianRoot)
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "postgres")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault();
            if (newest is not null)
            {
                return newest;
            }
        }
        throw new InvalidOperationException(
            "PostgreSQL server binaries not found: install PostgreSQL (apt-get install postgresql) or set QUANTTRADER_PG_BIN, " +
            "or run with QuantTrader:UseContainers=true on a machine with a container runtime.");
    }
}

internal static class PostgresCluster
{
    /// <summary>The superuser password, generated once and kept beside the cluster (mode 600).</summary>
    public static string EnsurePassword(string dataDirectory) => Secrets.SecretFile(dataDirectory, "postgres.password", 16);

    /// <summary><c>initdb</c> once: an existing cluster (PG_VERSION present) is left alone.</summary>
    public static async Task InitializeOnceAsync(string binDirectory, string clusterDirectory, string password, bool asPostgresUser, CancellationToken ct)
    {
        if (File.Exists(Path.Combine(clusterDirectory, "PG_VERSION")))
        {
            return;
        }
        Directory.CreateDirectory(clusterDirectory);
        var passwordFile = Path.Combine(Path.GetTempPath(), $"qt-pw-{Guid.NewGuid():N}");
        await using (var stream = SecretFiles.CreateNew(passwordFile))
        {
            await stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(password), ct);
        }
        try
        {
            if (asPostgresUser)
            {
                await RunAsync("chown", ["-R", "postgres:postgres", clusterDirectory, passwordFile], ct);
            }
            string[] initdb = [Path.Combine(binDirectory, "initdb"), "-D", clusterDirectory, "-U", LocalPostgresResource.User,
                "--pwfile", passwordFile, "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C"];
            await (asPostgresUser ? RunAsync("runuser", ["-u", "postgres", "--", .. initdb], ct) : RunAsync(initdb[0], initdb[1..], ct));
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    /// <summary>Runs a PostgreSQL tool to completion; throws with its output when it fails. Also the load harness's
    /// (its own cluster, LocalPostgres). Both streams are read to their end concurrently, so a chatty tool never blocks.</summary>
    internal static async Task RunAsync(string file, string[] args, CancellationToken ct)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {await stderr}{await stdout}");
        }
    }
}

/// <summary>
/// Ready means a connection answers and the QuantTrader database exists (created here, once): a started
/// process alone is not ready.
/// </summary>
internal sealed class PostgresReadyCheck(LocalPostgresResource postgres) : IHealthCheck
{
    private bool _databaseExists;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var admin = await postgres.ConnectionString("postgres").GetValueAsync(cancellationToken);
            await using var connection = new NpgsqlConnection(admin + ";Timeout=3;Pooling=false");
            await connection.OpenAsync(cancellationToken);
            if (!_databaseExists)
            {
                await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection)
                {
                    Parameters = { new() { Value = postgres.DatabaseName } },
                };
                if (await exists.ExecuteScalarAsync(cancellationToken) is null)
                {
                    await using var create = new NpgsqlCommand($"CREATE DATABASE \"{postgres.DatabaseName}\"", connection);
                    await create.ExecuteNonQueryAsync(cancellationToken);
                }
                _databaseExists = true;
            }
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy("PostgreSQL does not accept connections yet", ex);
        }
    }
}
