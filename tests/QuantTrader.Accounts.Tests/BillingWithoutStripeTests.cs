using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using QuantTrader.Contracts.Accounts;
using QuantTrader.ServiceDefaults.Identity;

namespace QuantTrader.Accounts.Tests;

/// <summary>
/// An installation without Stripe keys: billing says so clearly (503) instead of failing obscurely.
/// Neither route reaches the database or NATS before that answer, so none is needed here.
/// </summary>
public sealed class BillingWithoutStripeTests : IClassFixture<WebApplicationFactory<Program>>
{
    private const string SigningKey = "test-signing-key-test-signing-key-0123456789";
    private readonly WebApplicationFactory<Program> _factory;

    public BillingWithoutStripeTests(WebApplicationFactory<Program> factory)
    {
        _factory = factory.WithWebHostBuilder(web =>
        {
            web.UseSetting("ConnectionStrings:quanttrader", "Host=127.0.0.1;Port=1;Username=x;Password=x;Database=x");
            web.UseSetting("ConnectionStrings:nats", "nats://127.0.0.1:1");
            web.UseSetting(IdentityToken.SigningKeyConfigKey, SigningKey);
        });
    }

    [Fact]
    public async Task Checkout_without_a_Stripe_key_is_a_clear_503()
    {
        using var client = _factory.CreateClient();
        var identity = new IdentityToken(SigningKey).Issue(new Caller(Guid.NewGuid(), "free", new PlanLimits(1, 1, 60, 30)));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/billing/checkout") { Content = JsonContent.Create(new { plan = "pro" }) };
        request.Headers.Add(IdentityToken.HeaderName, identity);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("billing-not-configured", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_webhook_without_a_secret_is_a_clear_503()
    {
        using var client = _factory.CreateClient();
        using var response = await client.PostAsync("/api/v1/billing/webhook", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Fact]
    public async Task The_plans_are_listed_without_Stripe()
    {
        using var client = _factory.CreateClient();
        var plans = await client.GetFromJsonAsync<List<System.Text.Json.JsonElement>>("/api/v1/billing/plans");
        Assert.Contains(plans!, p => p.GetProperty("name").GetString() == "free");
    }
}
