using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using NATS.Client.Core;
using QuantTrader.Contracts.Accounts;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Identity;

namespace QuantTrader.Gateway.Authentication;

/// <summary>
/// Who owns an API key, asked of the accounts service and cached briefly. The accounts service announces
/// revocations and plan changes on <c>accounts.changed</c>; the cache forgets that user at once.
/// </summary>
public sealed class KeyResolver(IHttpClientFactory httpClients, TimeProvider time, ILogger<KeyResolver> logger)
{
    public const string HttpClientName = "accounts";
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, (Caller? Caller, DateTimeOffset Expires)> _cache = new();

    private sealed record AuthenticateResponse(Guid UserId, string Plan, PlanLimits Limits, bool Operator = false);

    public async Task<Caller?> ResolveAsync(string apiKey, CancellationToken ct)
    {
        var cacheKey = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)));
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(cacheKey, out var hit) && hit.Expires > now)
        {
            return hit.Caller;
        }
        using var response = await httpClients.CreateClient(HttpClientName)
            .PostAsJsonAsync("http://accounts/internal/authenticate", new { apiKey }, ct);
        Caller? caller = null;
        if (response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadFromJsonAsync<AuthenticateResponse>(ct);
            caller = body is null ? null : new Caller(body.UserId, body.Plan, body.Limits, body.Operator);
        }
        else if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            // The accounts service is failing: do not cache, do not let anyone in.
            logger.LogWarning("Key check failed with {Status}", (int)response.StatusCode);
            throw new HttpRequestException($"accounts answered {(int)response.StatusCode}", null, response.StatusCode);
        }
        _cache[cacheKey] = (caller, now + Lifetime);
        return caller;
    }

    public void Forget(Guid userId)
    {
        foreach (var entry in _cache)
        {
            if (entry.Value.Caller?.UserId == userId)
            {
                _cache.TryRemove(entry.Key, out _);
            }
        }
    }
}

/// <summary>Listens for <c>accounts.changed</c> and drops the user's cached keys.</summary>
public sealed class AccountChangeListener(INatsConnection nats, KeyResolver keys, ILogger<AccountChangeListener> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var message in nats.SubscribeAsync<string>(Subjects.AccountsChanged, cancellationToken: stoppingToken))
                {
                    if (Guid.TryParse(message.Data, out var userId))
                    {
                        keys.Forget(userId);
                    }
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Account change subscription ended; resubscribing");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }
}
