using QuantTrader.Persistence.Schema;
using QuantTrader.ServiceDefaults.Messaging;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNatsClient();
builder.AddNpgsqlDataSource("quanttrader");
builder.Services.AddHostedService<SchemaMigrationService>();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
