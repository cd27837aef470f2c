using QuantTrader.Kline.Aggregation;
using QuantTrader.Kline.Indicators;
using QuantTrader.ServiceDefaults.Messaging;
using QuantTrader.ServiceDefaults.Partitioning;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNatsClient();
builder.AddNpgsqlDataSource("quanttrader");
builder.Services.AddOpenApi();

// Aggregation: the trades of MARKET_RAW and MARKET_HISTORY → klines on market.kline.{exchange}.{interval}.{SYMBOL}.{p},
// per partition of markets this replica holds the lease of (docs/klines.md).
builder.Services.Configure<KlineOptions>(builder.Configuration.GetSection(KlineOptions.Section));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<CheckpointStore>();
builder.Services.AddSingleton<KlinePublisher>();
builder.Services.AddSingleton<KlineReplays>();
builder.AddPartitionedWork<KlinePartition>("kline");
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
