using QuantTrader.Persistence.Ingest;
using QuantTrader.Persistence.Queries;
using QuantTrader.Persistence.Schema;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Messaging;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNatsClient();
// Sessions keep their state when a connection goes back to the pool: the batch saver's staging tables are
// `ON COMMIT DELETE ROWS` temporary tables, and the default reset (DISCARD ALL) dropped them, so every upsert batch
// re-created its table in the catalog (1.5 ms each, the costliest statements after the paper engine's in
// pg_stat_statements; docs/benchmarks.md section 11). Nothing else here leaves session state behind (the migrator
// unlocks its advisory lock itself).
builder.AddNpgsqlDataSource("quanttrader", configureDataSourceBuilder: b => b.ConnectionStringBuilder.NoResetOnClose = true);
builder.Services.AddOpenApi();
// Market data is public; a caller with a key gets its plan's HistoryDays instead of the anonymous allowance.
builder.AddGatewayIdentity();

// Registered first: its StartAsync (the migrations) completes before the consumers below start.
builder.Services.AddHostedService<SchemaMigrationService>();
builder.AddBatchSaver();
builder.Services.AddSingleton<MarketDataQueries>();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseGatewayIdentity();
app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapMarketDataApi();

app.Run();
