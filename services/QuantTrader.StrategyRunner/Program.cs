using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Messaging;
using QuantTrader.ServiceDefaults.Partitioning;
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

builder.Services.AddSingleton<StrategyEvents>();
builder.Services.AddSingleton<StrategyStore>();
builder.Services.AddSingleton<KlineHistory>();
builder.Services.AddSingleton<TradeHistory>();
builder.Services.AddSingleton<AccountFeeRates>();
builder.Services.AddSingleton<BacktestMarkets>();
builder.Services.AddSingleton<BacktestSlots>();
builder.Services.AddSingleton<OrderGateway>();
builder.Services.AddSingleton<QuoteBalanceSource>();
builder.Services.AddHttpClient(QuoteBalanceSource.HttpClientName, client => client.BaseAddress = new Uri("http://paper-engine"));
builder.Services.AddSingleton<StrategyAnnouncements>();
builder.Services.AddSingleton<StrategyCommands>();
// The running strategies of each user partition this replica owns, with their fills (docs/scaling.md).
builder.AddPartitionedWork<StrategyPartitions>("strategy-runner");

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseGatewayIdentity();
app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapStrategiesApi();
app.MapBacktestsApi();

app.Run();
