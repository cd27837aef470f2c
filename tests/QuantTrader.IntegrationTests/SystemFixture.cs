using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NATS.Client.JetStream.Models;
using System.Net.Http.Json;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// One running QuantTrader (real NATS, real PostgreSQL, every service, the gateway) shared by the whole
/// collection: starting Aspire costs ~10 s and ~1 GiB, so it is done once. Its data lives in a fresh temporary
/// folder that is removed afterwards, and disposing the app stops every process it started. A system of another shape
/// (<see cref="HighAvailabilityFixture"/>) derives from it and adds AppHost arguments.
/// </summary>
public class SystemFixture : IAsyncLifetime
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);

    public static readonly string[] Services =
        ["persistence", "accounts", "ingestor", "kline", "alert", "risk", "paper-engine", "strategy-runner", "analytics"];

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), $"quanttrader-test-{Guid.NewGuid():N}");

    private readonly CancellationTokenSource _stopLogs = new();
    private Task _resourceLogs = Task.CompletedTask;

    public DistributedApplication App { get; private set; } = null!;

    /// <summary>The run's data folder (generated passwords, nats.conf, the database cluster).</summary>
    public string DataDirectory => _dataDirectory;

    public HttpClient Gateway { get; private set; } = null!;

    public FakeStripe Stripe { get; private set; } = null!;

    /// <summary>Telegram's Bot API (the alert service's base URL), Discord's and Slack's webhooks (by URL).</summary>
    public FakeChatServices Chat { get; private set; } = null!;

    /// <summary>An SMTP server on loopback for email channels (a user's channel names its host and port, as a Discord
    /// channel names its URL; <c>AllowPrivateWebhooks</c> lets the service reach loopback).</summary>
    public FakeSmtpServer Smtp { get; private set; } = null!;

    /// <summary>The webhook signing secret the system under test is configured with.</summary>
    public const string StripeWebhookSecret = "whsec_test_quanttrader_integration";

    /// <summary>
    /// Accounts the system is told are operators (QuantTrader:Operators): only they may import history. A pool, so that
    /// every test gets an operator of its own (its own rate limit, import slot and daily quota), as with CreateUserAsync.
    /// </summary>
    public static readonly string[] OperatorEmails = [.. Enumerable.Range(1, 60).Select(i => $"operator-{i}@quanttrader.test")];

    private int _operatorsTaken;

    /// <summary>The folder the ingestor streams uploads into (the AppHost puts it in the data folder).</summary>
    public string ImportUploadDirectory => Path.Combine(_dataDirectory, "import-uploads");

    /// <summary>AppHost arguments a system of another shape adds to (or overrides in) the common ones.</summary>
    protected virtual IEnumerable<string> AppHostArgs => [];

    /// <summary>The NATS resources: <c>nats</c>, and <c>nats-1</c>, <c>nats-2</c>, … when NATS runs as a cluster.</summary>
    public virtual IReadOnlyList<string> NatsNodes => ["nats"];

    /// <summary>How many copies of each stream the system keeps (what the AppHost tells the services: min(3, nodes)).</summary>
    public int StreamReplicas => Math.Min(3, NatsNodes.Count);

    /// <summary>
    /// A stream configuration as the services create it on this system (their replica count). A test that creates or
    /// updates a shared stream must use it: any other count would change the stream under the services.
    /// </summary>
    public StreamConfig AsCreatedByServices(StreamConfig config) => config with { NumReplicas = StreamReplicas };

    public async Task InitializeAsync()
    {
        using var cts = new CancellationTokenSource(StartTimeout);
        Stripe = await FakeStripe.StartAsync();
        Chat = await FakeChatServices.StartAsync();
        Smtp = FakeSmtpServer.Start();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.QuantTrader_AppHost>(
            [
                "QuantTrader:GatewayPort=0", // a live system may already hold 8080
                $"QuantTrader:DataDirectory={_dataDirectory}",
                "Parameters:stripe-secret-key=sk_test_fake",
                $"Parameters:stripe-webhook-secret={StripeWebhookSecret}",
                $"QuantTrader:StripeApiBase={Stripe.BaseUrl}",
                $"QuantTrader:TelegramApiBase={Chat.BaseUrl}",
                "QuantTrader:AllowPrivateWebhooks=true", // the webhook receiver of AlertTests listens on loopback
                "QuantTrader:WebhookRetryBaseDelay=00:00:00.200", // six tries end in ~6 s instead of ~31 s (dead-letter test)
                "QuantTrader:MarketData:SimulatorPort=0", // a live system may hold the simulator's 8091
                "QuantTrader:MarketData:ConnectionLifetime=00:01:00", // the Binance 24 h cut-off, every minute: tests see switch-overs
                $"QuantTrader:TrustedProxies={GatewayAbuseTests.TrustedProxy}/32", // the one loopback address playing a load balancer
                $"QuantTrader:Operators={string.Join(',', OperatorEmails)}",
                .. AppHostArgs,
            ],
            (options, _) => options.DisableDashboard = true,
            cts.Token);
        // The paper engine logs each accepted order and each filling print at Debug (Information would cost a busy
        // system CPU); a failing trading test wants them in its resource log.
        builder.CreateResourceBuilder<ProjectResource>("paper-engine").WithEnvironment("Logging__LogLevel__QuantTrader.PaperEngine", "Debug");
        // An import facing a full MARKET_HISTORY fails after 5 s instead of 2 min (ImportSafetyTests fills it).
        builder.CreateResourceBuilder<ProjectResource>("ingestor").WithEnvironment("Imports__HistoryStreamFullPatience", "00:00:05");
        builder.Services.AddLogging(logging => logging
            .SetMinimumLevel(LogLevel.Warning)
            .AddFilter("Aspire.Hosting.Dcp", LogLevel.Error)
            // A service down on purpose (the restart tests) makes Aspire's health probes log every few seconds;
            // the resource logs below say what a service did, this would only bury the test results.
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None)
            .AddFilter("System.Net.Http", LogLevel.Warning)
            .AddFilter("Microsoft", LogLevel.Warning)
            // What the services print is in TestResults/resource-logs (ResourceLogFiles); echoing it to the test
            // console as well would bury the results (the AppHost's own settings would echo it at Information).
            .AddFilter("QuantTrader.AppHost.Resources", LogLevel.None));

        App = await builder.BuildAsync(cts.Token);
        _resourceLogs = ResourceLogFiles.Start(App, _stopLogs.Token);
        await App.StartAsync(cts.Token);

        var notifications = App.Services.GetRequiredService<ResourceNotificationService>();
        await Task.WhenAll(NatsNodes.Concat(["postgres", "gateway"]).Concat(Services)
            .Select(name => notifications.WaitForResourceHealthyAsync(name, cts.Token)));

        Gateway = App.CreateHttpClient("gateway");
        Gateway.Timeout = TimeSpan.FromSeconds(30);
    }

    /// <summary>A service's own address, bypassing the gateway (for the tests that prove services refuse that).</summary>
    public Uri ServiceEndpoint(string service) => App.GetEndpoint(service, "http");

    /// <summary>A new user; returns its id and an HTTP client that sends its API key.</summary>
    public async Task<(Guid UserId, string ApiKey, HttpClient Client)> CreateUserAsync(string? email = null)
    {
        email ??= $"trader-{Guid.NewGuid():N}@example.com";
        using var response = await Gateway.PostAsJsonAsync("/api/v1/accounts", new { email });
        response.EnsureSuccessStatusCode();
        var created = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        var key = created.GetProperty("apiKey").GetString()!;
        return (created.GetProperty("userId").GetGuid(), key, ClientWithKey(key));
    }

    /// <summary>A new operator account (the next unused email of <see cref="OperatorEmails"/>).</summary>
    public Task<(Guid UserId, string ApiKey, HttpClient Client)> CreateOperatorAsync()
    {
        var next = Interlocked.Increment(ref _operatorsTaken);
        if (next > OperatorEmails.Length)
        {
            throw new InvalidOperationException($"All {OperatorEmails.Length} operator accounts of the fixture are taken: make the pool larger.");
        }

        return CreateUserAsync(OperatorEmails[next - 1]);
    }

    public HttpClient ClientWithKey(string apiKey)
    {
        var client = App.CreateHttpClient("gateway");
        client.Timeout = TimeSpan.FromSeconds(30);
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        return client;
    }

    public async Task<string> ConnectionStringAsync(string resource)
        => await App.GetConnectionStringAsync(resource) ?? throw new InvalidOperationException($"{resource} has no connection string");

    /// <summary>
    /// The NATS connection string a service is started with: its own NATS user, with the password the AppHost generated
    /// into the data folder (nats-users/{service}.password), one URL per NATS node.
    /// </summary>
    public async Task<string> ServiceNatsConnectionStringAsync(string service)
    {
        var servers = (await ConnectionStringAsync("nats")).Split(',').Select(url => new Uri(url).Authority.Split('@')[^1]);
        var password = (await File.ReadAllTextAsync(Path.Combine(_dataDirectory, "nats-users", $"{service}.password"))).Trim();
        return string.Join(',', servers.Select(server => $"nats://{service}:{password}@{server}"));
    }

    public async Task DisposeAsync()
    {
        Gateway?.Dispose();
        if (Smtp is not null)
        {
            await Smtp.DisposeAsync();
        }

        if (Chat is not null)
        {
            await Chat.DisposeAsync();
        }

        if (Stripe is not null)
        {
            await Stripe.DisposeAsync();
        }
        if (App is not null)
        {
            await App.StopAsync();
            await _stopLogs.CancelAsync();
            await _resourceLogs;
            await App.DisposeAsync();
        }
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A process that outlived the app would hold files; leave the folder rather than fail the run.
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SystemCollection : ICollectionFixture<SystemFixture>
{
    public const string Name = "running system";
}
