using QuantTrader.AppHost.Infrastructure;

// The graph of QuantTrader: infrastructure, the services that talk over JetStream, and the one public door.
var builder = DistributedApplication.CreateBuilder(args);
var settings = QuantTraderSettings.From(builder);

// Infrastructure: local processes by default; containers only with QuantTrader:UseContainers=true.
var nats = builder.AddJetStream("nats", settings.UseContainers, settings.DataDirectory);
var database = builder.AddQuantTraderDatabase("postgres", "quanttrader", settings.UseContainers, settings.DataDirectory);

// Persistence owns the schema: it applies the migrations and only then reports healthy,
// so everything that touches the database waits for it.
var persistence = builder.AddQuantTraderService<Projects.QuantTrader_Persistence>("persistence", nats)
    .WithReference(database, "quanttrader").WaitFor(database);

var accounts = builder.AddQuantTraderService<Projects.QuantTrader_Accounts>("accounts", nats).WithStorage(database, persistence);
var ingestor = builder.AddQuantTraderService<Projects.QuantTrader_Ingestor>("ingestor", nats).WithStorage(database, persistence);
var kline = builder.AddQuantTraderService<Projects.QuantTrader_Kline>("kline", nats).WithStorage(database, persistence);
var alert = builder.AddQuantTraderService<Projects.QuantTrader_Alert>("alert", nats).WithStorage(database, persistence);
var risk = builder.AddQuantTraderService<Projects.QuantTrader_Risk>("risk", nats).WithStorage(database, persistence);
var paperEngine = builder.AddQuantTraderService<Projects.QuantTrader_PaperEngine>("paper-engine", nats).WithStorage(database, persistence);
var strategyRunner = builder.AddQuantTraderService<Projects.QuantTrader_StrategyRunner>("strategy-runner", nats).WithStorage(database, persistence);
var analytics = builder.AddQuantTraderService<Projects.QuantTrader_Analytics>("analytics", nats).WithStorage(database, persistence);

builder.AddProject<Projects.QuantTrader_Gateway>("gateway", launchProfileName: null)
    .WithHttpEndpoint(port: settings.GatewayPort, name: "http")
    .WithExternalHttpEndpoints()
    .WithHttpHealthCheck("/health")
    .WithReference(accounts).WithReference(ingestor).WithReference(kline).WithReference(alert)
    .WithReference(risk).WithReference(paperEngine).WithReference(strategyRunner).WithReference(analytics)
    .WithReference(persistence);

builder.Build().Run();
