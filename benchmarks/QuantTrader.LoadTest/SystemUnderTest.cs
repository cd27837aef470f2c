using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace QuantTrader.LoadTest;

/// <summary>
/// The real QuantTrader, started from its AppHost in simulator mode with every symbol the normalizer knows, its
/// data in a temporary folder. Disposing it stops every process it started.
/// </summary>
public sealed class SystemUnderTest : IAsyncDisposable
{
    public static readonly string[] Symbols =
        ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT", "ADAUSDT", "DOTUSDT", "UNIUSDT", "LTCUSDT"];

    public static readonly string[] Exchanges = ["binance", "okx"];

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), $"quanttrader-load-{Guid.NewGuid():N}");

    public DistributedApplication App { get; private set; } = null!;

    /// <summary>This run's data folder: nats-server's store and PostgreSQL's cluster are under it.</summary>
    public string DataDirectory => _dataDirectory;

    /// <summary>The services that hold state one owner must process (partitioned by leases): the ones run as replicas.</summary>
    public static readonly string[] StatefulServices = ["ingestor", "kline", "alert", "paper-engine", "strategy-runner", "analytics"];

    /// <summary>NATS's nodes as the AppHost names them (the first keeps <c>nats</c>).</summary>
    public IReadOnlyList<string> NatsNodes { get; private set; } = ["nats"];

    /// <param name="natsNodes">1: one nats-server (as <c>./qt run</c>); 3: a JetStream cluster with every stream on all three.</param>
    /// <param name="streamClients">Streaming API clients the harness will open from this one address (the gateway's per-address limit is raised to fit).</param>
    public static async Task<SystemUnderTest> StartAsync(CancellationToken ct, int natsNodes = 1, int streamClients = 0)
    {
        var system = new SystemUnderTest { NatsNodes = ["nats", .. Enumerable.Range(1, natsNodes - 1).Select(i => $"nats-{i}")] };
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.QuantTrader_AppHost>(
            [
                "QuantTrader:GatewayPort=0",
                "QuantTrader:MarketData:SimulatorPort=0",
                $"QuantTrader:DataDirectory={system._dataDirectory}",
                "QuantTrader:AnonymousRequestsPerMinute=1000000",
                $"QuantTrader:Nats:Nodes={natsNodes}",
                // The failover mode's webhook receiver listens on loopback.
                "QuantTrader:AllowPrivateWebhooks=true",
            ],
            (options, _) => options.DisableDashboard = true,
            ct);
        // The harness shares the box with the system it measures: it prints only what went wrong. Without the
        // category filters the AppHost's own settings (Information) echoed every service's log line and every
        // HttpClient request here — about a sixth of a core during the trading-latency mode, taken from the services.
        builder.Services.AddLogging(logging => logging
            .SetMinimumLevel(LogLevel.Warning)
            .AddFilter("Aspire.Hosting.Dcp", LogLevel.Error)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.Critical)
            .AddFilter("System.Net.Http", LogLevel.Warning)
            .AddFilter("Polly", LogLevel.Warning)
            .AddFilter("QuantTrader.AppHost.Resources", LogLevel.Warning)
            // nats-server and PostgreSQL write their ordinary log to stderr, which arrives here as errors: a cluster's
            // every leader election would fill the console.
            .AddFilter("QuantTrader.AppHost.Resources.nats", LogLevel.None)
            .AddFilter("QuantTrader.AppHost.Resources.postgres", LogLevel.None));

        // Many symbols on both exchanges, and a simulator that starts silent: the harness sets the rate.
        var simulator = builder.CreateResourceBuilder<ProjectResource>("exchange-simulator").WithEnvironment("Simulator__TradesPerSecond", "0");
        var ingestor = builder.CreateResourceBuilder<ProjectResource>("ingestor");
        for (var i = 0; i < Symbols.Length; i++)
        {
            simulator.WithEnvironment($"Simulator__Symbols__{i}", Symbols[i]);
            ingestor.WithEnvironment($"MarketData__Symbols__{i}", Symbols[i]);
        }
        if (streamClients > 0)
        {
            builder.CreateResourceBuilder<ProjectResource>("gateway")
                .WithEnvironment("QuantTrader__Stream__AnonymousConnectionsPerAddress", (streamClients + 10).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        // Tracing every trade at 50k/s would measure the tracer: sample 1 in 1000, as a production set-up would.
        foreach (var name in new[] { "ingestor", "kline", "persistence", "alert", "paper-engine", "strategy-runner", "analytics" })
        {
            builder.CreateResourceBuilder<ProjectResource>(name).WithEnvironment("QuantTrader__Tracing__SampleRatio", "0.001");
        }

        system.App = await builder.BuildAsync(ct);
        await system.App.StartAsync(ct);
        var notifications = system.App.Services.GetRequiredService<ResourceNotificationService>();
        await Task.WhenAll(new[] { "gateway", "persistence", "risk", "exchange-simulator" }.Concat(StatefulServices)
            .Select(name => notifications.WaitForResourceHealthyAsync(name, ct)));
        return system;
    }

    /// <summary>The process of a running resource: a project's service (the launcher's child), or an executable itself (nats-server).</summary>
    public async Task<int> ProcessIdAsync(string resource, CancellationToken ct)
    {
        var notifications = App.Services.GetRequiredService<ResourceNotificationService>();
        var running = await notifications.WaitForResourceAsync(resource, e => e.Snapshot.State?.Text == KnownResourceStates.Running, ct);
        var pid = running.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is { } value && int.TryParse(value.ToString(), out var id)
            ? id
            : throw new InvalidOperationException($"No process id for {resource}");
        // For a project the pid Aspire reports is the launcher; the service is its child running a QuantTrader assembly.
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                if (int.TryParse(Path.GetFileName(dir), out var child)
                    && File.ReadAllText(Path.Combine(dir, "stat")) is var stat
                    && int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) == pid
                    && File.ReadAllText(Path.Combine(dir, "cmdline")).Contains("QuantTrader", StringComparison.Ordinal))
                {
                    return child;
                }
            }
            catch (IOException)
            {
                // exited while we looked
            }
        }
        return pid;
    }

    /// <summary>Starts a resource whose process was killed again (Aspire's start command, once Aspire has seen it exit) and waits until it is healthy.</summary>
    public async Task RestartAsync(string resource, CancellationToken ct)
    {
        var notifications = App.Services.GetRequiredService<ResourceNotificationService>();
        await notifications.WaitForResourceAsync(resource,
            e => e.Snapshot.State?.Text is { } state && KnownResourceStates.TerminalStates.Contains(state), ct);
        var target = App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == resource);
        for (var attempt = 0; ; attempt++)
        {
            var result = await App.ResourceCommands.ExecuteCommandAsync(target, KnownResourceCommands.StartCommand, ct);
            if (result.Success)
            {
                break;
            }
            if (attempt >= 30)
            {
                throw new InvalidOperationException($"Aspire would not start {resource} again: {result.Message}");
            }
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
        await notifications.WaitForResourceAsync(resource,
            e => e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.HealthStatus == HealthStatus.Healthy, ct);
    }

    public HttpClient Client(string resource) => App.CreateHttpClient(resource);

    public async Task<string> ConnectionStringAsync(string resource)
        => await App.GetConnectionStringAsync(resource) ?? throw new InvalidOperationException($"{resource} has no connection string");

    public async ValueTask DisposeAsync()
    {
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
