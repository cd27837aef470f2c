using QuantTrader.Analytics.Equity;
using QuantTrader.Analytics.Reports;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Messaging;
using QuantTrader.ServiceDefaults.Partitioning;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNatsClient();
builder.AddNpgsqlDataSource("quanttrader");
builder.AddGatewayIdentity();
builder.Services.AddOpenApi();

builder.Services.Configure<AnalyticsOptions>(builder.Configuration.GetSection(AnalyticsOptions.Section));
builder.Services.AddSingleton(sp => sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<AnalyticsOptions>>().Value);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<Marks>();
builder.Services.AddSingleton<AccountBook>();
builder.Services.AddSingleton<EquityStore>();
builder.Services.AddSingleton<AnalyticsQueries>();
builder.Services.AddHostedService<MarkConsumer>();
builder.AddPartitionedWork<AccountPartitions>("analytics");
builder.Services.AddHostedService<SnapshotWriter>();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseGatewayIdentity();
app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapAnalyticsApi();

app.Run();
