using Npgsql;
using QuantTrader.Indicators;

namespace QuantTrader.Alert.Runtime;

/// <summary>Closed klines from the <c>klines</c> table, to warm up an indicator rule when it is created or loaded.</summary>
public sealed class StoredKlines(NpgsqlDataSource dataSource)
{
    /// <summary>Enough for the recursive indicators to forget their seed (see the kline service's indicator endpoint).</summary>
    public const int WarmupBars = 1000;

    /// <summary>
    /// The last <paramref name="count"/> closed klines, oldest first; with <paramref name="upTo"/>, only those opened at
    /// or before it (a new owner of the partition warms up to where the previous one stood and replays the rest).
    /// </summary>
    public async Task<IReadOnlyList<IndicatorBar>> LatestAsync(string exchange, string symbol, string interval, int count, DateTimeOffset? upTo, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT * FROM (
                SELECT open_time, open, high, low, close, volume FROM klines
                WHERE exchange = $1 AND symbol = $2 AND interval = $3 AND closed AND ($5::timestamptz IS NULL OR open_time <= $5)
                ORDER BY open_time DESC LIMIT $4) newest
            ORDER BY open_time
            """);
        command.Parameters.Add(new() { Value = exchange });
        command.Parameters.Add(new() { Value = symbol });
        command.Parameters.Add(new() { Value = interval });
        command.Parameters.Add(new() { Value = count });
        command.Parameters.Add(new() { Value = upTo.HasValue ? upTo.Value : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        var bars = new List<IndicatorBar>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            bars.Add(new IndicatorBar(reader.GetFieldValue<DateTimeOffset>(0), reader.GetDecimal(1), reader.GetDecimal(2), reader.GetDecimal(3), reader.GetDecimal(4), reader.GetDecimal(5)));
        }

        return bars;
    }
}
