using QuantTrader.Persistence.Ingest;
using QuantTrader.Persistence.Queries;
using QuantTrader.Persistence.Schema;
using QuantTrader.ServiceDefaults.Messaging;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNatsClient();
builder.AddNpgsqlDataSource("quanttrader");
builder.Services.AddOpenApi();

// Registered first: its StartAsync (the migrations) completes before the consumers below start.
builder.Services.AddHostedService<SchemaMigrationService>();
builder.AddBatchSaver();
builder.Services.AddSingleton<MarketDataQueries>();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapMarketDataApi();

app.Run();
