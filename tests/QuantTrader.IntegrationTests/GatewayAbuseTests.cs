using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using QuantTrader.Gateway.Authentication;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Key guessing and address forging through the real gateway. Every test talks from its own loopback address
/// (Linux routes all of 127.0.0.0/8 to lo), so the per-address limits it exhausts are nobody else's.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class GatewayAbuseTests(SystemFixture system)
{
    /// <summary>The address the fixture configures as a trusted proxy (QuantTrader:TrustedProxies).</summary>
    public const string TrustedProxy = "127.0.0.2";

    [Fact]
    public async Task Random_API_keys_from_one_address_are_refused_with_429_and_retry_after_once_the_failure_limit_is_spent()
    {
        using var attacker = ClientFrom("127.0.0.3");
        var answers = new List<HttpStatusCode>();
        HttpResponseMessage? firstRefusal = null;
        for (var i = 0; i < 400; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/portfolio");
            request.Headers.Authorization = new("Bearer", RandomKey());
            var response = await attacker.SendAsync(request);
            answers.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests && firstRefusal is null)
            {
                firstRefusal = response;
                continue;
            }
            response.Dispose();
        }

        Assert.Equal(AuthenticationFailureLimits.DefaultPerMinute, answers.Count(a => a == HttpStatusCode.Unauthorized));
        Assert.All(answers.Skip(AuthenticationFailureLimits.DefaultPerMinute), a => Assert.Equal(HttpStatusCode.TooManyRequests, a));
        using (firstRefusal)
        {
            Assert.NotNull(firstRefusal!.Headers.RetryAfter?.Delta);
            Assert.InRange(firstRefusal.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
            var problem = await firstRefusal.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("https://quanttrader.dev/problems/authentication-rate-limited", problem.GetProperty("type").GetString());
        }

        // Another address with a real key is not affected.
        var (_, apiKey, _) = await system.CreateUserAsync();
        using var honest = ClientFrom("127.0.0.4");
        honest.DefaultRequestHeaders.Authorization = new("Bearer", apiKey);
        using var portfolio = await honest.GetAsync("/api/v1/portfolio");
        Assert.Equal(HttpStatusCode.OK, portfolio.StatusCode);
    }

    [Fact]
    public async Task A_forged_X_Forwarded_For_from_an_untrusted_address_does_not_change_the_client_address_the_limits_count()
    {
        using var forger = ClientFrom("127.0.0.5");
        var answers = await FailuresAsync(forger, AuthenticationFailureLimits.DefaultPerMinute + 5, i => $"198.51.100.{i + 1}");

        // Every request claimed a different client, yet they all counted against 127.0.0.5.
        Assert.Equal(AuthenticationFailureLimits.DefaultPerMinute, answers.Count(a => a == HttpStatusCode.Unauthorized));
        Assert.Equal(5, answers.Count(a => a == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task A_trusted_proxy_s_X_Forwarded_For_names_the_client_the_limits_count()
    {
        using var proxy = ClientFrom(TrustedProxy);
        var first = await FailuresAsync(proxy, AuthenticationFailureLimits.DefaultPerMinute + 1, _ => "192.0.2.10");
        Assert.Equal(HttpStatusCode.TooManyRequests, first[^1]);

        // The same proxy, for another client: that client's budget is untouched.
        var second = await FailuresAsync(proxy, 1, _ => "192.0.2.11");
        Assert.Equal(HttpStatusCode.Unauthorized, second.Single());
    }

    [Fact]
    public async Task The_key_cache_stays_within_its_bound_under_a_flood_of_unknown_keys_and_still_knows_real_ones()
    {
        const int capacity = 50;
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [KeyResolver.CacheEntriesSetting] = capacity.ToString() })
            .Build();
        var keys = new KeyResolver(new AccountsClients(system.ServiceEndpoint("accounts")), TimeProvider.System, configuration, NullLogger<KeyResolver>.Instance);

        for (var i = 0; i < 4 * capacity; i++)
        {
            Assert.Null(await keys.ResolveAsync(RandomKey(), CancellationToken.None));
        }
        Assert.InRange(keys.CachedKeys, 1, capacity);

        var (userId, apiKey, _) = await system.CreateUserAsync();
        Assert.Equal(userId, (await keys.ResolveAsync(apiKey, CancellationToken.None))?.UserId);
        Assert.Null(await keys.ResolveAsync(new string('k', KeyResolver.MaxKeyLength + 1), CancellationToken.None));
    }

    private async Task<List<HttpStatusCode>> FailuresAsync(HttpClient client, int count, Func<int, string> forwardedFor)
    {
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < count; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/portfolio");
            request.Headers.Authorization = new("Bearer", RandomKey());
            request.Headers.Add("X-Forwarded-For", forwardedFor(i));
            using var response = await client.SendAsync(request);
            answers.Add(response.StatusCode);
        }
        return answers;
    }

    private static string RandomKey() => "qt_" + Convert.ToHexString(Guid.NewGuid().ToByteArray()).ToLowerInvariant();

    /// <summary>A client whose connections leave from <paramref name="source"/>, to the gateway's loopback port.</summary>
    private HttpClient ClientFrom(string source)
    {
        var gateway = system.App.GetEndpoint("gateway", "http");
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port), ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>The gateway's "accounts" client, aimed at the running accounts service.</summary>
    private sealed class AccountsClients(Uri accounts) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new(new ToAccounts(accounts));

        private sealed class ToAccounts(Uri accounts) : DelegatingHandler(new SocketsHttpHandler())
        {
            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
            {
                request.RequestUri = new Uri(accounts, request.RequestUri!.PathAndQuery);
                return base.SendAsync(request, ct);
            }
        }
    }
}
