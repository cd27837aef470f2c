using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace QuantTrader.IntegrationTests;

[Collection(SystemCollection.Name)]
public sealed class BillingTests(SystemFixture system)
{
    [Fact]
    public async Task Checkout_creates_one_customer_and_a_subscription_session_through_Stripe_net()
    {
        var (userId, _, client) = await system.CreateUserAsync();

        using var first = await client.PostAsJsonAsync("/api/v1/billing/checkout", new { plan = "pro" });
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.StartsWith("https://checkout.stripe.com/", (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString());
        using var second = await client.PostAsJsonAsync("/api/v1/billing/checkout", new { plan = "team" });
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);

        var mine = system.Stripe.Requests.Where(r => r.Form.Values.Contains(userId.ToString())).ToList();
        var customers = mine.Where(r => r.Path == "/v1/customers").ToList();
        var customer = Assert.Single(customers); // created once per user
        Assert.Equal("Bearer sk_test_fake", customer.Authorization);
        Assert.Equal($"customer-{userId}", customer.IdempotencyKey);

        var sessions = mine.Where(r => r.Path == "/v1/checkout/sessions").ToList();
        Assert.Equal(2, sessions.Count);
        var pro = sessions[0].Form;
        Assert.Equal("subscription", pro["mode"]);
        Assert.Equal("price_quanttrader_pro_monthly", pro["line_items[0][price]"]);
        Assert.Equal("1", pro["line_items[0][quantity]"]);
        Assert.Equal(userId.ToString(), pro["metadata[userId]"]);
        Assert.Equal("pro", pro["metadata[plan]"]);
        Assert.Equal(userId.ToString(), pro["client_reference_id"]);
        Assert.StartsWith("cus_test_", pro["customer"]);
        Assert.StartsWith($"checkout-{userId}-pro-", sessions[0].IdempotencyKey);
        Assert.Equal("price_quanttrader_team_monthly", sessions[1].Form["line_items[0][price]"]);
    }

    [Fact]
    public async Task Checkout_for_an_unknown_or_free_plan_is_a_400()
    {
        var (_, _, client) = await system.CreateUserAsync();
        using var unknown = await client.PostAsJsonAsync("/api/v1/billing/checkout", new { plan = "platinum" });
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        using var free = await client.PostAsJsonAsync("/api/v1/billing/checkout", new { plan = "free" });
        Assert.Equal(HttpStatusCode.BadRequest, free.StatusCode);
    }

    [Fact]
    public async Task A_signed_checkout_completed_event_moves_the_plan_once_and_a_replay_changes_nothing()
    {
        var (userId, _, client) = await system.CreateUserAsync();
        var eventId = $"evt_{Guid.NewGuid():N}";
        var body = CheckoutCompleted(eventId, userId, "pro");

        using (var response = await PostWebhookAsync(body, Sign(body, DateTimeOffset.UtcNow)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("applied", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("outcome").GetString());
        }
        await Eventually.SucceedsAsync(async () =>
        {
            var me = await client.GetFromJsonAsync<JsonElement>("/api/v1/accounts/me");
            Assert.Equal("pro", me.GetProperty("plan").GetString());
        }, TimeSpan.FromSeconds(30));

        // Stripe retries deliveries: the same event id again is acknowledged and ignored.
        using (var replay = await PostWebhookAsync(body, Sign(body, DateTimeOffset.UtcNow)))
        {
            Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
            Assert.Equal("replayed", (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("outcome").GetString());
        }
    }

    [Fact]
    public async Task Bad_signatures_and_stale_timestamps_are_refused_without_a_change()
    {
        var (userId, _, client) = await system.CreateUserAsync();
        var body = CheckoutCompleted($"evt_{Guid.NewGuid():N}", userId, "team");

        using (var forged = await PostWebhookAsync(body, Sign(body, DateTimeOffset.UtcNow, "whsec_someone_else")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        }
        using (var stale = await PostWebhookAsync(body, Sign(body, DateTimeOffset.UtcNow.AddSeconds(-400))))
        {
            Assert.Equal(HttpStatusCode.BadRequest, stale.StatusCode);
        }
        using (var tampered = await PostWebhookAsync(body.Replace("team", "pro"), Sign(body, DateTimeOffset.UtcNow)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, tampered.StatusCode);
        }
        using (var unsigned = await PostWebhookAsync(body, null))
        {
            Assert.Equal(HttpStatusCode.BadRequest, unsigned.StatusCode);
        }
        var me = await client.GetFromJsonAsync<JsonElement>("/api/v1/accounts/me");
        Assert.Equal("free", me.GetProperty("plan").GetString());
    }

    [Fact]
    public async Task A_deleted_subscription_moves_the_user_back_to_free()
    {
        var (userId, _, client) = await system.CreateUserAsync();
        // The customer exists once the user went through checkout.
        using (var checkout = await client.PostAsJsonAsync("/api/v1/billing/checkout", new { plan = "pro" }))
        {
            checkout.EnsureSuccessStatusCode();
        }
        var customerId = system.Stripe.Requests.Last(r => r.Path == "/v1/checkout/sessions" && r.Form.GetValueOrDefault("metadata[userId]") == userId.ToString()).Form["customer"];
        var completed = CheckoutCompleted($"evt_{Guid.NewGuid():N}", userId, "pro");
        (await PostWebhookAsync(completed, Sign(completed, DateTimeOffset.UtcNow))).EnsureSuccessStatusCode();

        var deleted = StripeEvent($"evt_{Guid.NewGuid():N}", "customer.subscription.deleted", new Dictionary<string, object?>
        {
            ["id"] = "sub_test_1", ["object"] = "subscription", ["customer"] = customerId, ["status"] = "canceled",
        });
        using (var response = await PostWebhookAsync(deleted, Sign(deleted, DateTimeOffset.UtcNow)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        await Eventually.SucceedsAsync(async () =>
        {
            var me = await client.GetFromJsonAsync<JsonElement>("/api/v1/accounts/me");
            Assert.Equal("free", me.GetProperty("plan").GetString());
        }, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_late_subscription_update_after_its_deletion_does_not_restore_the_paid_plan()
    {
        var (userId, _, client) = await system.CreateUserAsync();
        var customerId = await CustomerAfterCheckoutAsync(client, userId);
        var subscription = $"sub_{Guid.NewGuid():N}";
        var t = DateTimeOffset.UtcNow.AddMinutes(-10);

        Assert.Equal("applied", await SendAsync(SubscriptionEvent("customer.subscription.updated", subscription, customerId, "active", "price_quanttrader_pro_monthly", t)));
        await PlanBecomesAsync(client, "pro");
        Assert.Equal("applied", await SendAsync(SubscriptionEvent("customer.subscription.deleted", subscription, customerId, "canceled", "price_quanttrader_pro_monthly", t.AddSeconds(20))));
        await PlanBecomesAsync(client, "free");

        // Created between the two, delivered after the deletion (Stripe retries late): recorded, not applied.
        Assert.Equal("stale", await SendAsync(SubscriptionEvent("customer.subscription.updated", subscription, customerId, "active", "price_quanttrader_pro_monthly", t.AddSeconds(10))));
        // Even a newer 'active' cannot revive a deleted subscription: Stripe never does; a new one has a new id.
        Assert.Equal("stale", await SendAsync(SubscriptionEvent("customer.subscription.updated", subscription, customerId, "active", "price_quanttrader_pro_monthly", t.AddSeconds(30))));
        Assert.Equal("free", (await client.GetFromJsonAsync<JsonElement>("/api/v1/accounts/me")).GetProperty("plan").GetString());
    }

    [Fact]
    public async Task Events_of_one_subscription_apply_in_the_order_they_were_created_not_received()
    {
        var (userId, _, client) = await system.CreateUserAsync();
        var customerId = await CustomerAfterCheckoutAsync(client, userId);
        var subscription = $"sub_{Guid.NewGuid():N}";
        var t = DateTimeOffset.UtcNow.AddMinutes(-10);

        // The upgrade to team (newer) arrives before the older move to pro.
        Assert.Equal("applied", await SendAsync(SubscriptionEvent("customer.subscription.updated", subscription, customerId, "active", "price_quanttrader_team_monthly", t.AddSeconds(20))));
        await PlanBecomesAsync(client, "team");
        Assert.Equal("stale", await SendAsync(SubscriptionEvent("customer.subscription.updated", subscription, customerId, "active", "price_quanttrader_pro_monthly", t.AddSeconds(10))));
        Assert.Equal("team", (await client.GetFromJsonAsync<JsonElement>("/api/v1/accounts/me")).GetProperty("plan").GetString());

        // A newer event of another subscription of the same customer is its own order.
        Assert.Equal("applied", await SendAsync(SubscriptionEvent("customer.subscription.updated", $"sub_{Guid.NewGuid():N}", customerId, "active", "price_quanttrader_pro_monthly", t)));
        await PlanBecomesAsync(client, "pro");
    }

    /// <summary>Goes through checkout (which creates the Stripe customer) and returns the customer id.</summary>
    private async Task<string> CustomerAfterCheckoutAsync(HttpClient client, Guid userId)
    {
        using (var checkout = await client.PostAsJsonAsync("/api/v1/billing/checkout", new { plan = "pro" }))
        {
            checkout.EnsureSuccessStatusCode();
        }
        return system.Stripe.Requests.Last(r => r.Path == "/v1/checkout/sessions" && r.Form.GetValueOrDefault("metadata[userId]") == userId.ToString()).Form["customer"];
    }

    private async Task<string> SendAsync(string body)
    {
        using var response = await PostWebhookAsync(body, Sign(body, DateTimeOffset.UtcNow));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("outcome").GetString()!;
    }

    private static async Task PlanBecomesAsync(HttpClient client, string plan) =>
        await Eventually.SucceedsAsync(async () =>
        {
            var me = await client.GetFromJsonAsync<JsonElement>("/api/v1/accounts/me");
            Assert.Equal(plan, me.GetProperty("plan").GetString());
        }, TimeSpan.FromSeconds(30));

    private static string SubscriptionEvent(string type, string subscription, string customer, string status, string price, DateTimeOffset created) =>
        StripeEvent($"evt_{Guid.NewGuid():N}", type, new Dictionary<string, object?>
        {
            ["id"] = subscription,
            ["object"] = "subscription",
            ["customer"] = customer,
            ["status"] = status,
            ["items"] = new Dictionary<string, object?>
            {
                ["object"] = "list",
                ["data"] = new[]
                {
                    new Dictionary<string, object?>
                    {
                        ["id"] = $"si_{Guid.NewGuid():N}",
                        ["object"] = "subscription_item",
                        ["price"] = new Dictionary<string, object?> { ["id"] = price, ["object"] = "price" },
                    },
                },
            },
        }, created);

    private async Task<HttpResponseMessage> PostWebhookAsync(string body, string? signature)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/billing/webhook")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (signature is not null)
        {
            request.Headers.Add("Stripe-Signature", signature);
        }
        return await system.Gateway.SendAsync(request);
    }

    /// <summary>Stripe's scheme: <c>t={unix},v1=hex(HMAC-SHA256(secret, "{t}.{body}"))</c>.</summary>
    private static string Sign(string body, DateTimeOffset at, string secret = SystemFixture.StripeWebhookSecret)
    {
        var t = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}"));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }

    private static string CheckoutCompleted(string eventId, Guid userId, string plan) =>
        StripeEvent(eventId, "checkout.session.completed", new Dictionary<string, object?>
        {
            ["id"] = $"cs_test_{Guid.NewGuid():N}",
            ["object"] = "checkout.session",
            ["mode"] = "subscription",
            ["client_reference_id"] = userId.ToString(),
            ["metadata"] = new Dictionary<string, string> { ["userId"] = userId.ToString(), ["plan"] = plan },
        });

    private static string StripeEvent(string id, string type, Dictionary<string, object?> dataObject, DateTimeOffset? created = null) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["id"] = id,
            ["object"] = "event",
            ["api_version"] = "2025-10-29.clover",
            ["created"] = (created ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds(),
            ["livemode"] = false,
            ["type"] = type,
            ["data"] = new Dictionary<string, object?> { ["object"] = dataObject },
        });
}
