using QuantTrader.PaperEngine.Accounts;
using QuantTrader.PaperEngine.Engine;
using QuantTrader.PaperEngine.Fees;
using QuantTrader.PaperEngine.Messaging;
using QuantTrader.PaperEngine.Orders;
using QuantTrader.PaperEngine.Portfolios;
using QuantTrader.PaperEngine.Storage;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Messaging;
using QuantTrader.ServiceDefaults.Partitioning;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNatsClient();
builder.AddNpgsqlDataSource("quanttrader");
builder.AddGatewayIdentity();
builder.Services.AddOpenApi();

builder.Services.Configure<PaperEngineOptions>(builder.Configuration.GetSection(PaperEngineOptions.Section));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<Instruments>();
builder.Services.AddSingleton<PaperStore>();
builder.Services.AddSingleton<RiskClient>();
builder.Services.AddSingleton<LastTrades>();
builder.Services.AddSingleton<OrderService>();

// The engine's parts, started in this order by the active replica only (ActiveEngine; the others stand by).
builder.Services.AddSingleton<OutboxPublisher>();
builder.Services.AddSingleton<IEventOutbox>(sp => sp.GetRequiredService<OutboxPublisher>());
builder.Services.AddSingleton<IStepStore>(sp => sp.GetRequiredService<PaperStore>());
builder.Services.AddSingleton<EngineActor>();
builder.Services.AddSingleton<StepWriter>();
builder.Services.AddSingleton<MarksTracker>();
builder.Services.AddSingleton<WantedMarkets>();
builder.Services.AddSingleton<PaperAccounts>();
builder.Services.AddSingleton<ExchangeLoop>();
builder.Services.AddSingleton<TradeFeed>();
builder.Services.AddSingleton<OrderRequestHandlers>();
builder.AddPartitionedWork<ActiveEngine>("paper-engine", PartitionScheme.ActiveStandby with { FencedByStore = true });
// Ready once state is loaded, trades flow in and paper.submit/paper.cancel are answered (or as a standby).
builder.Services.AddHealthChecks().AddCheck<EngineHealth>("paper-engine");

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
// A standby answers over the active replica (the gateway may reach either).
app.UseForwardingToActiveReplica(ActiveEngine.ForwardSubject, app.Services.GetRequiredService<ActiveEngine>().IsActiveNow, "/api");
app.UseGatewayIdentity();
app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapOrdersApi();
app.MapPortfolioApi();
app.MapFeesApi();

app.Run();
