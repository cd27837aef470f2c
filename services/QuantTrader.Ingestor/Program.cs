using QuantTrader.Ingestor.Imports;
using QuantTrader.Ingestor.Markets;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Messaging;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNatsClient();
builder.AddNpgsqlDataSource("quanttrader");
builder.AddGatewayIdentity();
builder.Services.AddOpenApi();

builder.AddMarketIngestion();
builder.AddHistoryImports();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseGatewayIdentity();
app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapMarketsApi();
app.MapImportsApi();

app.Run();
