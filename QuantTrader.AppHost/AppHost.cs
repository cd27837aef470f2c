using QuantTrader.AppHost.Infrastructure;
using QuantTrader.AppHost.Kubernetes;

// The graph of QuantTrader: infrastructure, the services that talk over JetStream, and the one public door.
var builder = DistributedApplication.CreateBuilder(args);
var settings = QuantTraderSettings.From(builder);

// Infrastructure: local processes by default; containers only with QuantTrader:UseContainers=true.
// Locally settings.NatsNodes nats-server processes (one JetStream cluster when more than one); on Kubernetes a cluster
// of --nats-nodes servers (Kubernetes/NatsCluster.cs).
var nats = builder.AddJetStream("nats", settings.UseContainers, settings.DataDirectory, settings.NatsNodes).ClusteredOnKubernetes();
var database = builder.AddQuantTraderDatabase("postgres", "quanttrader", settings.UseContainers, settings.DataDirectory);
var signingKey = builder.AddIdentitySigningKey(settings.DataDirectory);

// Persistence owns the schema: it applies the migrations and only then reports healthy,
// so everything that touches the database waits for it.
var persistence = builder.AddQuantTraderService<Projects.QuantTrader_Persistence>("persistence", nats, signingKey)
    .WithDatabase(database, ownsSchema: true).WaitFor(database);

var accounts = builder.AddQuantTraderService<Projects.QuantTrader_Accounts>("accounts", nats, signingKey)
    .WithStorage(database, persistence)
    .WithOptionalStripe(builder);
// Operators (emails, comma-separated) may import history into the shared markets; nobody else can write market data.
if (builder.Configuration["QuantTrader:Operators"] is { Length: > 0 } operators)
{
    accounts.WithEnvironment("Accounts__Operators", operators);
}
// Market data: the exchange simulator (default, offline) or the real exchanges (QuantTrader:MarketData:Source=live).
var ingestor = builder.AddQuantTraderService<Projects.QuantTrader_Ingestor>("ingestor", nats, signingKey).WithStorage(database, persistence)
    .WithMarketData(builder, settings.DataDirectory);
if (builder.ExecutionContext.IsRunMode)
{
    // The ingestor empties its upload folder at start: one per data folder, so two local systems never share it.
    ingestor.WithEnvironment("Imports__TempDirectory", Path.Combine(settings.DataDirectory, "import-uploads"));
}
var kline = builder.AddQuantTraderService<Projects.QuantTrader_Kline>("kline", nats, signingKey).WithStorage(database, persistence);
var alert = builder.AddQuantTraderService<Projects.QuantTrader_Alert>("alert", nats, signingKey).WithStorage(database, persistence);
// Webhook receivers are anywhere on the internet (a deployment's NetworkPolicy: public addresses only).
alert.WithExternalEgress("webhook deliveries");
// Webhooks to loopback/private/link-local addresses are refused (SSRF) unless the operator allows them (tests, on-premise receivers).
alert.WithEnvironment("Alerts__Webhooks__AllowPrivateNetworks", builder.Configuration["QuantTrader:AllowPrivateWebhooks"] ?? "false");
// The Telegram Bot API's address (default https://api.telegram.org): the tests point it at their fake.
if (builder.Configuration["QuantTrader:TelegramApiBase"] is { } telegramApiBase)
{
    alert.WithEnvironment("Notifications__Channels__TelegramBaseUrl", telegramApiBase);
}
// The first retry delay of notification deliveries (doubled each retry; default 1 s): the tests shorten the dead-letter path.
if (builder.Configuration["QuantTrader:WebhookRetryBaseDelay"] is { } webhookRetryBaseDelay)
{
    alert.WithEnvironment("Notifications__Delivery__BaseDelay", webhookRetryBaseDelay);
}
var risk = builder.AddQuantTraderService<Projects.QuantTrader_Risk>("risk", nats, signingKey).WithStorage(database, persistence);
// Active/standby: one replica runs the engine (a NATS KV lease, fenced in PostgreSQL), the others take over when it stops or dies.
var paperEngine = builder.AddQuantTraderService<Projects.QuantTrader_PaperEngine>("paper-engine", nats, signingKey).WithStorage(database, persistence);
// The runner reads a strategy owner's quote balance from the paper engine's portfolio (qt.quote_balance).
var strategyRunner = builder.AddQuantTraderService<Projects.QuantTrader_StrategyRunner>("strategy-runner", nats, signingKey).WithStorage(database, persistence)
    .WithReference(paperEngine);
var analytics = builder.AddQuantTraderService<Projects.QuantTrader_Analytics>("analytics", nats, signingKey).WithStorage(database, persistence);

// The gateway: the only public door. It authenticates API keys (asking accounts), signs the caller's
// identity for the services, rate-limits per plan and routes by service discovery.
var gatewayReplicas = builder.ConfiguredReplicas("gateway");
builder.AddProject<Projects.QuantTrader_Gateway>("gateway", launchProfileName: null)
    // Not proxied by DCP: the gateway must see each client's own address (its per-address limits), not the proxy's.
    // Several local replicas share the port only through the proxy (then the per-address limits see the proxy).
    .WithHttpEndpoint(port: settings.GatewayPort, name: "http", isProxied: gatewayReplicas > 1)
    .WithConfiguredReplicas(gatewayReplicas)
    .WithExternalHttpEndpoints()
    .WithHttpHealthCheck("/health")
    .WithNatsUser(nats)
    .WithEnvironment("QuantTrader__Identity__SigningKey", signingKey)
    .WithEnvironment("QuantTrader__Gateway__AnonymousRequestsPerMinute", settings.AnonymousRequestsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture))
    .WithTrustedProxyNetworks(builder)
    .WithReference(accounts).WithReference(ingestor).WithReference(kline).WithReference(alert)
    .WithReference(risk).WithReference(paperEngine).WithReference(strategyRunner).WithReference(analytics)
    .WithReference(persistence);

builder.CheckConfiguredReplicas();

// `--publisher kubernetes --output-path DIR`: manifests for this same graph (QuantTrader.AppHost/Kubernetes).
builder.AddKubernetesPublisher();

builder.Build().Run();
