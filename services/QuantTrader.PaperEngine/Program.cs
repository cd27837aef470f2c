using QuantTrader.PaperEngine.Engine;
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
builder.Services.AddHostedService<TradeFeed>();
builder.Services.AddHostedService<OrderRequestHandlers>();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseGatewayIdentity();
app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapOrdersApi();
app.MapPortfolioApi();

app.Run();
