using Microsoft.Extensions.Options;
using Npgsql;
using QuantTrader.Trading.Risk;

namespace QuantTrader.Risk.Limits;

/// <summary>Per-user limits (table <c>risk_limits</c>, migration 0401); users without a row get the configured defaults.</summary>
public sealed class LimitsStore(NpgsqlDataSource db, IOptionsMonitor<RiskSettings> settings)
{
    /// <summary>The user's limits as they set them (or the defaults), capped by the operator's current ceiling.</summary>
    public async Task<RiskLimits> GetEffectiveAsync(Guid userId, CancellationToken ct)
    {
        var current = settings.CurrentValue;
        return (await FindAsync(userId, ct) ?? current.Defaults.ToLimits()).Clamp(current.Ceiling.ToLimits());
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
    }
}
