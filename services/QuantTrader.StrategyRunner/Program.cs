using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Messaging;
using QuantTrader.StrategyRunner.Api;
using QuantTrader.StrategyRunner.Backtests;
using QuantTrader.StrategyRunner.Runner;
using QuantTrader.StrategyRunner.Storage;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNatsClient();
builder.AddNpgsqlDataSource("quanttrader");
builder.AddGatewayIdentity();
builder.Services.AddOpenApi();

builder.Services.AddSingleton<StrategyStore>();
builder.Services.AddSingleton<KlineHistory>();
builder.Services.AddSingleton<BacktestSlots>();
builder.Services.AddSingleton<OrderGateway>();
builder.Services.AddSingleton<QuoteBalanceSource>();
builder.Services.AddHttpClient(QuoteBalanceSource.HttpClientName, client => client.BaseAddress = new Uri("http://paper-engine"));
builder.Services.AddSingleton<StrategySupervisor>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<StrategySupervisor>());
builder.Services.AddHostedService<FillListener>();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseGatewayIdentity();
app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapStrategiesApi();
app.MapBacktestsApi();

app.Run();
