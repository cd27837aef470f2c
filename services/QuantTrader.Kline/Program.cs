using QuantTrader.Kline.Aggregation;
using QuantTrader.Kline.Indicators;
using QuantTrader.ServiceDefaults.Messaging;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNatsClient();
builder.AddNpgsqlDataSource("quanttrader");
builder.Services.AddOpenApi();

// Aggregation: MARKET_RAW trades → klines on market.kline.{exchange}.{interval}.{SYMBOL} (docs/klines.md).
builder.Services.Configure<KlineOptions>(builder.Configuration.GetSection(KlineOptions.Section));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<CheckpointStore>();
builder.Services.AddSingleton<KlineWorker>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<KlineWorker>());
builder.Services.AddHealthChecks().AddCheck<KlineHealthCheck>("kline-aggregation");

// Indicators over stored klines.
builder.Services.AddSingleton<StoredKlines>();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapIndicatorsApi();

app.Run();
