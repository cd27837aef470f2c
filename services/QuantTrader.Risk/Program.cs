using QuantTrader.Risk.Checks;
using QuantTrader.Risk.Limits;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Messaging;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNatsClient();
builder.AddNpgsqlDataSource("quanttrader");
builder.AddGatewayIdentity();
builder.Services.AddOpenApi();

builder.Services.Configure<RiskSettings>(builder.Configuration.GetSection(RiskSettings.Section));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<LimitsStore>();
builder.Services.AddSingleton<RiskResponder>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<RiskResponder>());
// Ready only once risk.check is answered: before that every order would be rejected as unanswered.
builder.Services.AddHealthChecks().AddCheck<RiskResponderHealth>("risk-responder");

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseGatewayIdentity();
app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapLimitsApi();

app.Run();
