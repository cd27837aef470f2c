using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Stripe's API at the HTTP level, on loopback: it records what Stripe.net sends (form-encoded bodies,
/// headers) and answers with the JSON shapes Stripe returns. Stripe's servers are the one edge we cannot reach.
/// </summary>
public sealed class FakeStripe : IAsyncDisposable
{
    public sealed record Request(string Method, string Path, string? Authorization, string? IdempotencyKey, IReadOnlyDictionary<string, string> Form);

    private readonly WebApplication _app;
    public ConcurrentQueue<Request> Requests { get; } = new();
    public string BaseUrl { get; }

    private FakeStripe(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public static async Task<FakeStripe> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeStripe? fake = null;
        var customers = 0;
        app.Use(async (context, next) =>
        {
            var form = context.Request.HasFormContentType
                ? (await context.Request.ReadFormAsync()).ToDictionary(kv => kv.Key, kv => kv.Value.ToString())
                : [];
            fake!.Requests.Enqueue(new Request(context.Request.Method, context.Request.Path, context.Request.Headers.Authorization,
                context.Request.Headers["Idempotency-Key"], form));
            await next(context);
        });
        app.MapPost("/v1/customers", () =>
        {
            var id = $"cus_test_{Interlocked.Increment(ref customers)}";
            return Results.Json(new Dictionary<string, object> { ["id"] = id, ["object"] = "customer" });
        });
        app.MapPost("/v1/checkout/sessions", () => Results.Json(new Dictionary<string, object>
        {
            ["id"] = "cs_test_a1",
            ["object"] = "checkout.session",
            ["mode"] = "subscription",
            ["url"] = "https://checkout.stripe.com/c/pay/cs_test_a1",
        }));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake = new FakeStripe(app, address);
        return fake;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
