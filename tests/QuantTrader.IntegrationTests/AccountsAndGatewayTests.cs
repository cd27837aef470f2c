using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using QuantTrader.Contracts.Accounts;
using QuantTrader.ServiceDefaults.Identity;

namespace QuantTrader.IntegrationTests;

[Collection(SystemCollection.Name)]
public sealed class AccountsAndGatewayTests(SystemFixture system)
{
    [Fact]
    public async Task A_new_account_gets_a_key_once_and_starts_on_the_free_plan()
    {
        var (userId, apiKey, client) = await system.CreateUserAsync();
        Assert.StartsWith("qt_", apiKey);

        var me = await client.GetFromJsonAsync<JsonElement>("/api/v1/accounts/me");
        Assert.Equal(userId, me.GetProperty("userId").GetGuid());
        Assert.Equal("free", me.GetProperty("plan").GetString());
        Assert.True(me.GetProperty("limits").GetProperty("requestsPerMinute").GetInt32() > 0);

        // Keys are listed by id and prefix only.
        var keys = await client.GetStringAsync("/api/v1/accounts/me/keys");
        Assert.DoesNotContain(apiKey, keys);
        Assert.Contains(apiKey[..10], keys);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not-an-email")]
    public async Task A_bad_email_is_a_400_naming_the_field(string email)
    {
        using var response = await system.Gateway.PostAsJsonAsync("/api/v1/accounts", new { email });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("email", problem.GetProperty("field").GetString());
        Assert.Equal("https://quanttrader.dev/problems/validation", problem.GetProperty("type").GetString());
    }

    [Fact]
    public async Task The_same_email_twice_is_a_409()
    {
        var email = $"dup-{Guid.NewGuid():N}@example.com";
        await system.CreateUserAsync(email);
        using var response = await system.Gateway.PostAsJsonAsync("/api/v1/accounts", new { email });
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
    }

    [Fact]
    public async Task A_service_that_is_down_is_a_503_problem_naming_it_with_retry_after()
    {
        var (_, _, client) = await system.CreateUserAsync();
        await ResourceControl.KillAsync(system, "analytics");
        try
        {
            using var response = await client.GetAsync("/api/v1/analytics/performance");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("https://quanttrader.dev/problems/service-unavailable", problem.GetProperty("type").GetString());
            Assert.Contains("analytics", problem.GetProperty("detail").GetString());
        }
        finally
        {
            await ResourceControl.StartAsync(system, "analytics");
        }

        using var again = await client.GetAsync("/api/v1/analytics/performance");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task No_key_or_a_bad_key_is_a_401_problem()
    {
        using (var response = await system.Gateway.GetAsync("/api/v1/accounts/me"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        using var bad = system.ClientWithKey("qt_" + new string('x', 40));
        using (var response = await bad.GetAsync("/api/v1/accounts/me"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        // Routes of services that have no API yet are guarded too.
        using (var response = await system.Gateway.GetAsync("/api/v1/orders"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task A_rotated_out_key_stops_working_at_once_and_the_last_key_cannot_be_revoked()
    {
        var (_, oldKey, oldClient) = await system.CreateUserAsync();
        var oldKeyId = (await oldClient.GetFromJsonAsync<JsonElement>("/api/v1/accounts/me/keys"))[0].GetProperty("id").GetGuid();

        using (var lastKey = await oldClient.DeleteAsync($"/api/v1/accounts/me/keys/{oldKeyId}"))
        {
            Assert.Equal(HttpStatusCode.Conflict, lastKey.StatusCode);
        }

        using var created = await oldClient.PostAsync("/api/v1/accounts/me/keys", null);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var newKey = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("apiKey").GetString()!;
        using var newClient = system.ClientWithKey(newKey);

        using (var revoke = await newClient.DeleteAsync($"/api/v1/accounts/me/keys/{oldKeyId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }
        // The gateway had the old key cached; the revocation announcement must have dropped it.
        await Eventually.SucceedsAsync(async () =>
        {
            using var response = await oldClient.GetAsync("/api/v1/accounts/me");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }, TimeSpan.FromSeconds(30));
        using var stillWorks = await newClient.GetAsync("/api/v1/accounts/me");
        Assert.Equal(HttpStatusCode.OK, stillWorks.StatusCode);
        Assert.NotEqual(oldKey, newKey);
    }

    [Fact]
    public async Task A_forged_identity_sent_straight_to_a_service_is_refused()
    {
        var (userId, _, _) = await system.CreateUserAsync();
        using var direct = new HttpClient { BaseAddress = system.ServiceEndpoint("accounts") };

        var forger = new IdentityToken(new string('f', 64)); // not the gateway's key
        var limits = new PlanLimits(1000, 1000, 100000, 3650);
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/accounts/me"))
        {
            request.Headers.Add(IdentityToken.HeaderName, forger.Issue(new Caller(userId, "team", limits)));
            using var response = await direct.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/accounts/me"))
        {
            request.Headers.Add(IdentityToken.HeaderName, "eyJ1c2VySWQiOiIxIn0.AAAA");
            using var response = await direct.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        // Through the gateway, an identity header from outside is removed, not trusted.
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/accounts/me"))
        {
            request.Headers.Add(IdentityToken.HeaderName, forger.Issue(new Caller(userId, "team", limits)));
            using var response = await system.Gateway.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task A_user_cannot_change_their_own_plan()
    {
        var (_, _, client) = await system.CreateUserAsync();
        foreach (var method in new[] { HttpMethod.Put, HttpMethod.Patch, HttpMethod.Post })
        {
            using var request = new HttpRequestMessage(method, "/api/v1/accounts/me") { Content = JsonContent.Create(new { plan = "team" }) };
            using var response = await client.SendAsync(request);
            Assert.False(response.IsSuccessStatusCode, $"{method} /api/v1/accounts/me answered {(int)response.StatusCode}");
        }
        var me = await client.GetFromJsonAsync<JsonElement>("/api/v1/accounts/me");
        Assert.Equal("free", me.GetProperty("plan").GetString());
    }

    [Fact]
    public async Task A_burst_over_the_plans_rate_is_429_with_retry_after()
    {
        var (_, _, client) = await system.CreateUserAsync();
        var me = await client.GetFromJsonAsync<JsonElement>("/api/v1/accounts/me");
        var perMinute = me.GetProperty("limits").GetProperty("requestsPerMinute").GetInt32();

        HttpResponseMessage? limited = null;
        for (var i = 0; i < perMinute + 5 && limited is null; i++)
        {
            var response = await client.GetAsync("/api/v1/billing/plans");
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
            else
            {
                response.Dispose();
            }
        }
        Assert.NotNull(limited);
        using (limited)
        {
            Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero);
            var problem = await limited.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("https://quanttrader.dev/problems/rate-limited", problem.GetProperty("type").GetString());
        }
    }

    [Fact]
    public async Task Oversized_bodies_are_refused()
    {
        // Expect: 100-continue, as a client uploading a large body should: the gateway answers 413 from the declared
        // length without asking for the body. Sent blindly, the gateway's early answer and close can reach the client
        // as a broken pipe while it is still writing.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/accounts")
        {
            Content = new StringContent("{\"email\":\"" + new string('a', 2 << 20) + "\"}", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.ExpectContinue = true;
        using var response = await system.Gateway.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    /// <summary>Every route of ../shared/API.md, as (method, path); parameter names may differ per service.</summary>
    private static readonly (string Method, string Path)[] ApiRoutes =
    [
        ("post", "/api/v1/accounts"), ("get", "/api/v1/accounts/me"), ("post", "/api/v1/accounts/me/keys"),
        ("delete", "/api/v1/accounts/me/keys/{}"), ("get", "/api/v1/billing/plans"), ("post", "/api/v1/billing/checkout"),
        ("post", "/api/v1/billing/webhook"),
        ("get", "/api/v1/markets"), ("get", "/api/v1/markets/{}/{}/trades"), ("get", "/api/v1/markets/{}/{}/klines"),
        ("get", "/api/v1/markets/{}/{}/indicators/{}"), ("post", "/api/v1/imports"), ("get", "/api/v1/imports/{}"),
        ("post", "/api/v1/orders"), ("get", "/api/v1/orders"), ("get", "/api/v1/orders/{}"), ("delete", "/api/v1/orders/{}"),
        ("get", "/api/v1/fills"), ("get", "/api/v1/portfolio"), ("get", "/api/v1/risk/limits"), ("put", "/api/v1/risk/limits"),
        ("post", "/api/v1/alerts"), ("get", "/api/v1/alerts"), ("delete", "/api/v1/alerts/{}"), ("get", "/api/v1/alerts/events"),
        ("post", "/api/v1/strategies"), ("post", "/api/v1/strategies/{}/start"), ("post", "/api/v1/strategies/{}/stop"),
        ("get", "/api/v1/strategies/{}"), ("get", "/api/v1/strategies/{}/logs"), ("post", "/api/v1/backtests"),
        ("get", "/api/v1/analytics/performance"), ("get", "/api/v1/analytics/equity"),
        // Beyond API.md: per-account fee rates (issue #5 asks for them; API.md names no route).
        ("get", "/api/v1/fees"), ("put", "/api/v1/fees"),
        // Issue #20 § 3: the caller's notification deliveries, and resending a failed one.
        ("get", "/api/v1/notifications"), ("post", "/api/v1/notifications/{}/resend"),
    ];

    [Fact]
    public async Task The_combined_OpenAPI_document_lists_every_route_of_the_API_contract()
    {
        var document = await system.Gateway.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var listed = new HashSet<(string, string)>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            var normalized = System.Text.RegularExpressions.Regex.Replace(path.Name, "\\{[^}]*\\}", "{}");
            foreach (var operation in path.Value.EnumerateObject())
            {
                listed.Add((operation.Name, normalized));
            }
        }
        var missing = ApiRoutes.Where(r => !listed.Contains(r)).Select(r => $"{r.Method.ToUpperInvariant()} {r.Path}").ToList();
        Assert.True(missing.Count == 0, "missing from the combined document: " + string.Join(", ", missing));
        Assert.DoesNotContain(listed, r => r.Item2.StartsWith("/internal", StringComparison.Ordinal));

        using var docs = await system.Gateway.GetAsync("/docs");
        Assert.Equal(HttpStatusCode.OK, docs.StatusCode);
        Assert.Equal("text/html", docs.Content.Headers.ContentType?.MediaType);
    }
}
