using QuantTrader.Alert.Channels;
using QuantTrader.Alert.Notifications;
using QuantTrader.Alert.Partitioning;
using QuantTrader.Alert.Rules;
using QuantTrader.Alert.Runtime;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Messaging;
using QuantTrader.ServiceDefaults.Partitioning;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNatsClient();
builder.AddNpgsqlDataSource("quanttrader");
builder.AddGatewayIdentity();
builder.Services.AddOpenApi();

// Rules, and what happens when one fires (docs/alerts.md).
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<RuleStore>();
builder.Services.AddSingleton<StoredKlines>();
builder.Services.AddSingleton<FiringRecorder>();

// Notifications: a durable outbox written with each firing, delivered by any replica's worker through its channel
// (the signed webhook), retried, fair per destination (docs/notifications.md). Before the partitions: it stops after them.
builder.AddNotifications();

// A user's channels (Telegram, Discord, Slack, webhook): settings encrypted at rest, named by rules (docs/notifications.md § Channels).
builder.AddChannels();

// Evaluation split by market partition over the replicas: one owner per partition, resumed from its checkpoint
// (docs/alerts.md § Replicas).
builder.Services.AddSingleton<AlertStreams>();
builder.Services.AddSingleton<PartitionCheckpoints>();
builder.Services.AddSingleton<RuleAnnouncements>();
builder.AddPartitionedWork<AlertPartitionWork>("alert");
builder.Services.AddHealthChecks().AddCheck<AlertEngineHealthCheck>("alert-engine");

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseGatewayIdentity();
app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapAlertsApi();
app.MapNotificationsApi();
app.MapChannelsApi();

app.Run();
