using Npgsql;
using QuantTrader.Indicators;

namespace QuantTrader.Kline.Indicators;

/// <summary>Reads closed klines from the <c>klines</c> table (filled by persistence from market.kline.&gt;).</summary>
public sealed class StoredKlines(NpgsqlDataSource dataSource)
{
    /// <summary>Closed klines with open time in [<paramref name="from"/>, <paramref name="to"/>], oldest first.</summary>
    public async Task<List<IndicatorBar>> RangeAsync(
        string exchange, string symbol, string interval, DateTimeOffset? from, DateTimeOffset to, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT open_time, open, high, low, close, volume FROM klines
            WHERE exchange = $1 AND symbol = $2 AND interval = $3 AND closed
              AND ($4::timestamptz IS NULL OR open_time >= $4) AND open_time <= $5
            ORDER BY open_time
            """);
        command.Parameters.Add(new() { Value = exchange });
        command.Parameters.Add(new() { Value = symbol });
        command.Parameters.Add(new() { Value = interval });
        command.Parameters.Add(new() { Value = from.HasValue ? from.Value : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = to });
        return await ReadAsync(command, ct);
    }

    /// <summary>The newest <paramref name="count"/> closed klines with open time at or before <paramref name="to"/>, oldest first.</summary>
    public async Task<List<IndicatorBar>> LatestAsync(
        string exchange, string symbol, string interval, DateTimeOffset to, int count, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT * FROM (
                SELECT open_time, open, high, low, close, volume FROM klines
                WHERE exchange = $1 AND symbol = $2 AND interval = $3 AND closed AND open_time <= $4
                ORDER BY open_time DESC LIMIT $5) newest
            ORDER BY open_time
            """);
        command.Parameters.Add(new() { Value = exchange });
        command.Parameters.Add(new() { Value = symbol });
        command.Parameters.Add(new() { Value = interval });
        command.Parameters.Add(new() { Value = to });
        command.Parameters.Add(new() { Value = count });
        return await ReadAsync(command, ct);
    }

    private static async Task<List<IndicatorBar>> ReadAsync(NpgsqlCommand command, CancellationToken ct)
    {
        var bars = new List<IndicatorBar>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            bars.Add(new IndicatorBar(
                reader.GetFieldValue<DateTimeOffset>(0),
                reader.GetDecimal(1),
                reader.GetDecimal(2),
                reader.GetDecimal(3),
                reader.GetDecimal(4),
                reader.GetDecimal(5)));
        }

        return bars;
    }
}
