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
/// The cache holds at most <c>QuantTrader:Gateway:KeyCacheEntries</c> keys (default 10,000): when it is full of
/// unexpired entries a new answer is simply not cached, so a flood of made-up keys costs lookups, never memory.
/// </summary>
public sealed class KeyResolver(IHttpClientFactory httpClients, TimeProvider time, IConfiguration configuration, ILogger<KeyResolver> logger)
    : IAccountChangeObserver
{
    public const string HttpClientName = "accounts";
    public const string CacheEntriesSetting = "QuantTrader:Gateway:KeyCacheEntries";
    /// <summary>Issued keys are ~45 characters; anything much longer is not a key and is not worth a lookup.</summary>
    public const int MaxKeyLength = 256;
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, (Caller? Caller, DateTimeOffset Expires)> _cache = new();
    private readonly int _capacity = Math.Max(1, configuration.GetValue(CacheEntriesSetting, 10_000));
    private long _lastSweepTicks;

    private sealed record AuthenticateResponse(Guid UserId, string Plan, PlanLimits Limits, bool Operator = false);

    public int CachedKeys => _cache.Count;

    public async Task<Caller?> ResolveAsync(string apiKey, CancellationToken ct)
    {
        if (apiKey.Length is 0 or > MaxKeyLength)
        {
            return null;
        }
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
        Remember(cacheKey, caller, now);
        return caller;
    }

    private void Remember(string cacheKey, Caller? caller, DateTimeOffset now)
    {
        if (_cache.Count >= _capacity && !_cache.ContainsKey(cacheKey))
        {
            SweepExpired(now);
            if (_cache.Count >= _capacity)
            {
                return;
            }
        }
        _cache[cacheKey] = (caller, now + Lifetime);
    }

    /// <summary>At most once a second: a full cache under a flood must not cost a scan per request.</summary>
    private void SweepExpired(DateTimeOffset now)
    {
        var last = Interlocked.Read(ref _lastSweepTicks);
        if (now.UtcTicks - last < TimeSpan.TicksPerSecond || Interlocked.CompareExchange(ref _lastSweepTicks, now.UtcTicks, last) != last)
        {
            return;
        }
        foreach (var entry in _cache)
        {
            if (entry.Value.Expires <= now)
            {
                _cache.TryRemove(entry);
            }
        }
    }

    /// <summary>Drops the user's cached keys: the next request asks the accounts service again.</summary>
    public void AccountChanged(Guid userId)
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

/// <summary>Listens for <c>accounts.changed</c> and tells every <see cref="IAccountChangeObserver"/> of this replica.</summary>
public sealed class AccountChangeListener(INatsConnection nats, IEnumerable<IAccountChangeObserver> observers, ILogger<AccountChangeListener> logger) : BackgroundService
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
                        foreach (var observer in observers)
                        {
                            observer.AccountChanged(userId);
                        }
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
