using Npgsql;
using QuantTrader.Contracts.MarketData;
using QuantTrader.ServiceDefaults.Queries;

namespace QuantTrader.Persistence.Queries;

/// <summary>
/// Range reads served by indexes: trades by their primary key (exchange, symbol, time, trade_id) — migration 0103,
/// which also serves the ORDER BY time, trade_id —, klines by their primary key (exchange, symbol, interval, open_time). The same SQL works on partitions and hypertables (the planner
/// prunes partitions/chunks outside the range).
/// </summary>
public sealed class MarketDataQueries(NpgsqlDataSource dataSource)
{
    /// <summary>The time of the market's newest stored trade (the PK's last entry); null when it has none.</summary>
    public async Task<DateTimeOffset?> NewestTradeAsync(string exchange, string symbol, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT max(time) FROM trades WHERE exchange = $1 AND symbol = $2");
        command.Parameters.Add(new() { Value = exchange });
        command.Parameters.Add(new() { Value = symbol });
        return await command.ExecuteScalarAsync(ct) is DateTime t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null;
    }

    /// <summary>The open time of the market's newest stored kline of <paramref name="interval"/>; null when it has none.</summary>
    public async Task<DateTimeOffset?> NewestKlineAsync(string exchange, string symbol, string interval, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT max(open_time) FROM klines WHERE exchange = $1 AND symbol = $2 AND interval = $3");
        command.Parameters.Add(new() { Value = exchange });
        command.Parameters.Add(new() { Value = symbol });
        command.Parameters.Add(new() { Value = interval });
        return await command.ExecuteScalarAsync(ct) is DateTime t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null;
    }

    /// <summary>Trades in the query's range, none before <paramref name="horizon"/> (the caller's HistoryDays).</summary>
    public async Task<List<TradeView>> TradesAsync(string exchange, string symbol, ListQuery query, DateTimeOffset? horizon, CancellationToken ct)
    {
        // With 'from': ascending from there. Without: the newest 'limit' (descending), reversed to oldest first.
        var newest = query.From is null;
        var sql = $"""
            SELECT trade_id, time, price, quantity, side, count FROM trades
            WHERE exchange = $1 AND symbol = $2
              {Range("time", query)} {Floor("time", horizon)}
            ORDER BY time {(newest ? "DESC" : "ASC")}, trade_id {(newest ? "DESC" : "ASC")}
            LIMIT $5
            """;
        await using var command = Command(sql, exchange, symbol, query);
        command.Parameters.Add(new() { Value = (object?)horizon ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<TradeView>(query.Limit);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new TradeView(
                reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetDecimal(2), reader.GetDecimal(3),
                reader.GetString(4) == "sell" ? TakerSide.Sell : TakerSide.Buy, reader.GetInt32(5)));
        }
        if (newest)
        {
            rows.Reverse();
        }
        return rows;
    }

    /// <summary>Klines in the query's range, none opened before <paramref name="horizon"/> (the caller's HistoryDays).</summary>
    public async Task<List<KlineView>> KlinesAsync(string exchange, string symbol, string interval, ListQuery query, DateTimeOffset? horizon, CancellationToken ct)
    {
        var newest = query.From is null;
        var sql = $"""
            SELECT open_time, close_time, open, high, low, close, volume, quote_volume, trades, closed, taker_buy_volume, taker_buy_quote_volume
            FROM klines
            WHERE exchange = $1 AND symbol = $2
              {Range("open_time", query)} {Floor("open_time", horizon)}
              AND interval = $7
            ORDER BY open_time {(newest ? "DESC" : "ASC")}
            LIMIT $5
            """;
        await using var command = Command(sql, exchange, symbol, query);
        command.Parameters.Add(new() { Value = (object?)horizon ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = interval });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<KlineView>(query.Limit);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new KlineView(
                reader.GetFieldValue<DateTimeOffset>(0), reader.GetFieldValue<DateTimeOffset>(1),
                reader.GetDecimal(2), reader.GetDecimal(3), reader.GetDecimal(4), reader.GetDecimal(5),
                reader.GetDecimal(6), reader.GetDecimal(7), reader.GetInt64(8), reader.GetBoolean(9),
                reader.GetDecimal(10), reader.GetDecimal(11)));
        }
        if (newest)
        {
            rows.Reverse();
        }
        return rows;
    }

    // Only the bounds that are given: plain range conditions the index and partition pruning can use.
    private static string Range(string column, ListQuery query) =>
        (query.From is null ? "" : $"AND {column} >= $3 ") + (query.To is null ? "" : $"AND {column} <= $4");

    private static string Floor(string column, DateTimeOffset? horizon) => horizon is null ? "" : $"AND {column} >= $6";

    private NpgsqlCommand Command(string sql, string exchange, string symbol, ListQuery query)
    {
        var command = dataSource.CreateCommand(sql);
        command.Parameters.Add(new() { Value = exchange });
        command.Parameters.Add(new() { Value = symbol });
        command.Parameters.Add(new() { Value = (object?)query.From ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = (object?)query.To ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = query.Limit });
        return command;
    }
}
