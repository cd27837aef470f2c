using QuantTrader.PaperEngine.Engine;
using QuantTrader.PaperEngine.Fees;
using QuantTrader.PaperEngine.Messaging;
using QuantTrader.PaperEngine.Orders;
using QuantTrader.PaperEngine.Portfolios;
using QuantTrader.PaperEngine.Storage;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Messaging;

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

// Start order matters: the outbox (owner of TRADING), then the engine loads its state, then trades and orders flow in.
builder.Services.AddSingleton<OutboxPublisher>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<OutboxPublisher>());
builder.Services.AddSingleton<ExchangeLoop>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<ExchangeLoop>());
builder.Services.AddSingleton<TradeFeed>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<TradeFeed>());
builder.Services.AddSingleton<OrderRequestHandlers>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<OrderRequestHandlers>());
// Ready once state is loaded, trades flow in and paper.submit/paper.cancel are answered.
builder.Services.AddHealthChecks().AddCheck<EngineHealth>("paper-engine");

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseGatewayIdentity();
app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapOrdersApi();
app.MapPortfolioApi();
app.MapFeesApi();

app.Run();
