using QuantTrader.Accounts.Billing;
using QuantTrader.Accounts.Plans;
using QuantTrader.Accounts.Users;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Messaging;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNatsClient();
builder.AddNpgsqlDataSource("quanttrader");
builder.AddGatewayIdentity();
builder.Services.AddOpenApi();

builder.Services.AddSingleton<PlanCatalog>();
builder.Services.AddSingleton<UserStore>();
builder.Services.AddSingleton<Operators>();
builder.Services.AddSingleton<AccountChanges>();
builder.Services.Configure<StripeSettings>(builder.Configuration.GetSection("Stripe"));
// Retries of Stripe POSTs are safe: every one carries an idempotency key.
builder.Services.AddHttpClient(StripeCheckout.HttpClientName);
builder.Services.AddScoped<StripeCheckout>();
builder.Services.AddScoped<StripeWebhook>();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseGatewayIdentity();
app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapAccountsApi();
app.MapBillingApi();

app.Run();
public partial class Program;
