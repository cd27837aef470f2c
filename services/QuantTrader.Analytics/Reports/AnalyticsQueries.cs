using Npgsql;
using NpgsqlTypes;
using QuantTrader.Performance;

namespace QuantTrader.Analytics.Reports;

/// <summary>Reads of a user's equity curve (resampled) and closed-trade PnLs.</summary>
public sealed class AnalyticsQueries(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// The equity curve resampled to <paramref name="interval"/>: the last snapshot of each bucket
    /// (buckets aligned to the Unix epoch, so 1d buckets are UTC days), oldest first. With a limit and no
    /// <paramref name="from"/>, the newest <paramref name="limit"/> buckets.
    /// </summary>
    public async Task<List<EquityPoint>> EquityAsync(Guid userId, DateTimeOffset? from, DateTimeOffset? to, TimeSpan interval, int? limit, CancellationToken ct)
    {
        var newest = from is null && limit is not null;
        var sql = $"""
            SELECT DISTINCT ON (bucket) date_bin($2, time, TIMESTAMPTZ '1970-01-01') AS bucket, time, equity
            FROM equity_snapshots
            WHERE user_id = $1 {(from is null ? "" : "AND time >= $3")} {(to is null ? "" : "AND time <= $4")}
            ORDER BY bucket {(newest ? "DESC" : "ASC")}, time DESC
            {(limit is null ? "" : "LIMIT $5")}
            """;
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.Add(new() { Value = userId });
        command.Parameters.Add(new() { Value = interval, NpgsqlDbType = NpgsqlDbType.Interval });
        command.Parameters.Add(new() { Value = (object?)from ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = (object?)to ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = limit ?? 0 });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var points = new List<EquityPoint>();
        while (await reader.ReadAsync(ct))
        {
            points.Add(new EquityPoint(reader.GetFieldValue<DateTimeOffset>(1), reader.GetDecimal(2)));
        }
        if (newest)
        {
            points.Reverse();
        }
        return points;
    }

    /// <summary>Realized PnL of every closing fill in the range (a partial close is one closed trade).</summary>
    public async Task<List<decimal>> ClosedTradePnlsAsync(Guid userId, DateTimeOffset? from, DateTimeOffset? to, Guid? strategyId, CancellationToken ct)
    {
        var sql = $"""
            SELECT realized_pnl FROM analytics_fills
            WHERE user_id = $1 AND closes {(from is null ? "" : "AND time >= $2")} {(to is null ? "" : "AND time <= $3")}
              {(strategyId is null ? "" : "AND strategy_id = $4")}
            ORDER BY position
            """;
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.Add(new() { Value = userId });
        command.Parameters.Add(new() { Value = (object?)from ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = (object?)to ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = (object?)strategyId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var pnls = new List<decimal>();
        while (await reader.ReadAsync(ct))
        {
            pnls.Add(reader.GetDecimal(0));
        }
        return pnls;
    }

    /// <summary>
    /// Exposure: the fraction of [start, end] during which the account held any open position, from the ledger
    /// (signed net quantity per market, replayed in apply order).
    /// </summary>
    public async Task<double?> ExposureAsync(Guid userId, DateTimeOffset start, DateTimeOffset end, CancellationToken ct)
    {
        if (end <= start)
        {
            return null;
        }
        await using var command = dataSource.CreateCommand(
            "SELECT exchange || ':' || symbol, CASE side WHEN 'buy' THEN quantity ELSE -quantity END, time FROM analytics_fills WHERE user_id = $1 AND time <= $2 ORDER BY position");
        command.Parameters.Add(new() { Value = userId });
        command.Parameters.Add(new() { Value = end });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var net = new Dictionary<string, decimal>(StringComparer.Ordinal);
        var exposed = TimeSpan.Zero;
        DateTimeOffset? openSince = null;
        while (await reader.ReadAsync(ct))
        {
            var key = reader.GetString(0);
            net[key] = net.GetValueOrDefault(key) + reader.GetDecimal(1);
            var time = reader.GetFieldValue<DateTimeOffset>(2);
            var open = net.Values.Any(q => q != 0m);
            if (open && openSince is null)
            {
                openSince = time;
            }
            else if (!open && openSince is { } since)
            {
                exposed += Overlap(since, time, start, end);
                openSince = null;
            }
        }
        if (openSince is { } stillOpen)
        {
            exposed += Overlap(stillOpen, end, start, end);
        }
        return exposed / (end - start);
    }

    private static TimeSpan Overlap(DateTimeOffset a, DateTimeOffset b, DateTimeOffset start, DateTimeOffset end)
    {
        var from = a > start ? a : start;
        var to = b < end ? b : end;
        return to > from ? to - from : TimeSpan.Zero;
    }
}
