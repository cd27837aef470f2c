using Npgsql;
using QuantTrader.Indicators;

namespace QuantTrader.Alert.Runtime;

/// <summary>Closed klines from the <c>klines</c> table, to warm up an indicator rule when it is created or loaded.</summary>
public sealed class StoredKlines(NpgsqlDataSource dataSource)
{
    /// <summary>Enough for the recursive indicators to forget their seed (see the kline service's indicator endpoint).</summary>
    public const int WarmupBars = 1000;

    public async Task<IReadOnlyList<IndicatorBar>> LatestAsync(string exchange, string symbol, string interval, int count, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT * FROM (
                SELECT open_time, open, high, low, close, volume FROM klines
                WHERE exchange = $1 AND symbol = $2 AND interval = $3 AND closed
                ORDER BY open_time DESC LIMIT $4) newest
            ORDER BY open_time
            """);
        command.Parameters.Add(new() { Value = exchange });
        command.Parameters.Add(new() { Value = symbol });
        command.Parameters.Add(new() { Value = interval });
        command.Parameters.Add(new() { Value = count });
        var bars = new List<IndicatorBar>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            bars.Add(new IndicatorBar(reader.GetFieldValue<DateTimeOffset>(0), reader.GetDecimal(1), reader.GetDecimal(2), reader.GetDecimal(3), reader.GetDecimal(4), reader.GetDecimal(5)));
        }

        return bars;
    }
}
