using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Npgsql;
using QuantTrader.Trading.Risk;

namespace QuantTrader.Risk.Limits;

/// <summary>Per-user limits (table <c>risk_limits</c>, migration 0401); users without a row get the configured defaults.</summary>
public sealed class LimitsStore(NpgsqlDataSource db, IOptionsMonitor<RiskSettings> settings, TimeProvider clock)
{
    /// <summary>
    /// How long a user's stored limits are used without reading the table again. The database read was a round trip
    /// inside every order's latency; a change made through this service replaces the cached entry at once, so only a
    /// change made through another replica can take this long to apply. Defaults and ceiling are read on every check.
    /// </summary>
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<Guid, (RiskLimits? Stored, DateTimeOffset Expires)> _cache = new();

    /// <summary>The user's limits as they set them (or the defaults), capped by the operator's current ceiling.</summary>
    public async Task<RiskLimits> GetEffectiveAsync(Guid userId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (!_cache.TryGetValue(userId, out var entry) || entry.Expires <= now)
        {
            // A failed read throws and caches nothing: the caller rejects the order (fail closed).
            entry = (await FindAsync(userId, ct), now + CacheLifetime);
            _cache[userId] = entry;
        }

        var current = settings.CurrentValue;
        return (entry.Stored ?? current.Defaults.ToLimits()).Clamp(current.Ceiling.ToLimits());
    }

    public async Task<RiskLimits?> FindAsync(Guid userId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "SELECT max_order_notional, max_position_notional, max_daily_loss, max_open_orders FROM risk_limits WHERE user_id = $1");
        cmd.Parameters.Add(new() { Value = userId });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? new RiskLimits(r.GetDecimal(0), r.GetDecimal(1), r.GetDecimal(2), r.GetInt32(3)) : null;
    }

    public async Task SaveAsync(Guid userId, RiskLimits limits, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            INSERT INTO risk_limits (user_id, max_order_notional, max_position_notional, max_daily_loss, max_open_orders) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (user_id) DO UPDATE SET max_order_notional = $2, max_position_notional = $3, max_daily_loss = $4,
                max_open_orders = $5, updated_at = now()
            """);
        cmd.Parameters.Add(new() { Value = userId });
        cmd.Parameters.Add(new() { Value = limits.MaxOrderNotional });
        cmd.Parameters.Add(new() { Value = limits.MaxPositionNotional });
        cmd.Parameters.Add(new() { Value = limits.MaxDailyLoss });
        cmd.Parameters.Add(new() { Value = limits.MaxOpenOrders });
        await cmd.ExecuteNonQueryAsync(ct);
        _cache[userId] = (limits, clock.GetUtcNow() + CacheLifetime);
    }
}
