using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
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

    public static async Task<SystemUnderTest> StartAsync(CancellationToken ct)
    {
        var system = new SystemUnderTest();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.QuantTrader_AppHost>(
            [
                "QuantTrader:GatewayPort=0",
                "QuantTrader:MarketData:SimulatorPort=0",
                $"QuantTrader:DataDirectory={system._dataDirectory}",
                "QuantTrader:AnonymousRequestsPerMinute=1000000",
            ],
            (options, _) => options.DisableDashboard = true,
            ct);
        // The harness shares the box with the system it measures: it prints only what went wrong. Without the
        // category filters the AppHost's own settings (Information) echoed every service's log line and every
        // HttpClient request here — about a sixth of a core during the trading-latency mode, taken from the services.
        builder.Services.AddLogging(logging => logging
            .SetMinimumLevel(LogLevel.Warning)
            .AddFilter("Aspire.Hosting.Dcp", LogLevel.Error)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.Error)
            .AddFilter("System.Net.Http", LogLevel.Warning)
            .AddFilter("Polly", LogLevel.Warning)
            .AddFilter("QuantTrader.AppHost.Resources", LogLevel.Warning));

        // Many symbols on both exchanges, and a simulator that starts silent: the harness sets the rate.
        var simulator = builder.CreateResourceBuilder<ProjectResource>("exchange-simulator").WithEnvironment("Simulator__TradesPerSecond", "0");
        var ingestor = builder.CreateResourceBuilder<ProjectResource>("ingestor");
        for (var i = 0; i < Symbols.Length; i++)
        {
            simulator.WithEnvironment($"Simulator__Symbols__{i}", Symbols[i]);
            ingestor.WithEnvironment($"MarketData__Symbols__{i}", Symbols[i]);
        }
        // Tracing every trade at 50k/s would measure the tracer: sample 1 in 1000, as a production set-up would.
        foreach (var name in new[] { "ingestor", "kline", "persistence", "alert", "paper-engine", "strategy-runner", "analytics" })
        {
            builder.CreateResourceBuilder<ProjectResource>(name).WithEnvironment("QuantTrader__Tracing__SampleRatio", "0.001");
        }

        system.App = await builder.BuildAsync(ct);
        await system.App.StartAsync(ct);
        var notifications = system.App.Services.GetRequiredService<ResourceNotificationService>();
        await Task.WhenAll(new[] { "gateway", "ingestor", "persistence", "kline", "paper-engine", "risk", "exchange-simulator" }
            .Select(name => notifications.WaitForResourceHealthyAsync(name, ct)));
        return system;
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
