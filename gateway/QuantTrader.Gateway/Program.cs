using QuantTrader.Gateway.ApiReference;
using QuantTrader.Gateway.Authentication;
using QuantTrader.Gateway.ClientAddresses;
using QuantTrader.Gateway.Limits;
using QuantTrader.Gateway.RateLimiting;
using QuantTrader.Gateway.Routing;
using QuantTrader.Gateway.Streaming;
using QuantTrader.Gateway.WebApp;
using QuantTrader.ServiceDefaults.Messaging;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNatsClient();
builder.AddTrustedProxies();
builder.AddCallerAuthentication();
builder.AddPlanRateLimits();
builder.AddCombinedOpenApi();
builder.AddConfiguredCors();
builder.AddMarketStream();
builder.Services.AddReverseProxy()
    .LoadFromMemory(RouteTable.Routes(), RouteTable.Clusters())
    .AddServiceDiscoveryDestinationResolver();

var app = builder.Build();

app.UseTrustedForwardedHeaders();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseCors();
app.UseRequestBodyLimits();
app.UseWebApp(); // public static files, before the key check and the rate limits
app.UseCallerAuthentication();
app.UseRateLimiter();
app.MapDefaultEndpoints();
app.MapCombinedOpenApi();
app.MapMarketStream();
app.MapReverseProxy(UnreachableServices.Pipeline);

app.Run();
