using QuantTrader.Alert.Rules;
using QuantTrader.Alert.Runtime;
using QuantTrader.Alert.Webhooks;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Messaging;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNatsClient();
builder.AddNpgsqlDataSource("quanttrader");
builder.AddGatewayIdentity();
builder.Services.AddOpenApi();

// Rules and their evaluation (docs/alerts.md).
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<RuleStore>();
builder.Services.AddSingleton<StoredKlines>();
builder.Services.AddSingleton<AlertRuntime>();
builder.Services.AddSingleton<AlertWorker>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<AlertWorker>());
builder.Services.AddHealthChecks().AddCheck<AlertEngineHealthCheck>("alert-engine");

// Webhooks: signed, retried, SSRF-guarded.
builder.Services.Configure<WebhookOptions>(builder.Configuration.GetSection(WebhookOptions.Section));
builder.Services.AddSingleton<WebhookDispatcher>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseGatewayIdentity();
app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapAlertsApi();

app.Run();
