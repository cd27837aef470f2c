using Npgsql;
using QuantTrader.Contracts.MarketData;

namespace QuantTrader.StrategyRunner.Backtests;

/// <summary>Closed klines from the <c>klines</c> table (live or imported; migration 0003), oldest first.</summary>
public sealed class KlineHistory(NpgsqlDataSource db)
{
    /// <summary>The open time of the newest stored closed kline of the market and interval (HistoryWindow's reference); null when none.</summary>
    public async Task<DateTimeOffset?> NewestAsync(string exchange, string symbol, string interval, CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT max(open_time) FROM klines WHERE exchange = $1 AND symbol = $2 AND interval = $3 AND closed");
        command.Parameters.Add(new() { Value = exchange });
        command.Parameters.Add(new() { Value = symbol });
        command.Parameters.Add(new() { Value = interval });
        return await command.ExecuteScalarAsync(ct) is DateTime t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null;
    }

    /// <summary>Klines with <paramref name="from"/> ≤ open time &lt; <paramref name="to"/>; at most <paramref name="max"/> + 1 so the caller can tell "too many".</summary>
    public async Task<IReadOnlyList<Kline>> ReadAsync(string exchange, string symbol, string interval, DateTimeOffset from, DateTimeOffset to, int max, CancellationToken ct)
    {
        await using var command = db.CreateCommand("""
            SELECT open_time, close_time, open, high, low, close, volume, quote_volume, trades, taker_buy_volume, taker_buy_quote_volume
            FROM klines
            WHERE exchange = $1 AND symbol = $2 AND interval = $3 AND open_time >= $4 AND open_time < $5 AND closed
            ORDER BY open_time
            LIMIT $6
            """);
        command.Parameters.Add(new() { Value = exchange });
        command.Parameters.Add(new() { Value = symbol });
        command.Parameters.Add(new() { Value = interval });
        command.Parameters.Add(new() { Value = from });
        command.Parameters.Add(new() { Value = to });
        command.Parameters.Add(new() { Value = max + 1 });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var klines = new List<Kline>();
        while (await reader.ReadAsync(ct))
        {
            klines.Add(new Kline(exchange, symbol, interval,
                reader.GetFieldValue<DateTimeOffset>(0), reader.GetFieldValue<DateTimeOffset>(1),
                reader.GetDecimal(2), reader.GetDecimal(3), reader.GetDecimal(4), reader.GetDecimal(5), reader.GetDecimal(6),
                reader.GetDecimal(7), reader.GetInt64(8), reader.GetDecimal(9), reader.GetDecimal(10), Closed: true));
        }
        return klines;
    }
}
