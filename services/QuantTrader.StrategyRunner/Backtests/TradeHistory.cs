using Npgsql;
using QuantTrader.Contracts.MarketData;

namespace QuantTrader.StrategyRunner.Backtests;

/// <summary>Whether stored trades can carry a backtest, and why (the answer's <c>sourceDetail</c>).</summary>
public sealed record TradeCoverage(bool Covered, long Prints, string Detail);

/// <summary>
/// Stored trades (the <c>trades</c> table, live or imported; migrations 0003 and 0103) as a backtest's prints. A
/// range "has trades" when every kline of it that traded (<c>trades</c> &gt; 0) has at least one stored trade inside
/// it, and there are at most <see cref="MaxPrints"/> of them: then the backtest runs print by print, otherwise on the
/// klines (docs/backtesting.md). Trades are kept 30 days by default, klines a year, so older ranges run on klines.
/// </summary>
public sealed class TradeHistory(NpgsqlDataSource db)
{
    /// <summary>The most prints one backtest reads (about 5 s of matching, longer to read); more run on the klines.</summary>
    public const long MaxPrints = 5_000_000;

    /// <summary>Counts the stored trades of each bar of <paramref name="klines"/> (one grouped index range scan).</summary>
    public async Task<TradeCoverage> CoverAsync(string exchange, string symbol, IReadOnlyList<Kline> klines, TimeSpan barLength, CancellationToken ct)
    {
        if (klines.Count == 0)
        {
            return new TradeCoverage(false, 0, "no klines in the range");
        }
        var first = klines[0].OpenTime;
        await using var command = db.CreateCommand("""
            SELECT floor(extract(epoch FROM (time - $3)) * 1000 / $5)::bigint AS bar, count(*)
            FROM trades
            WHERE exchange = $1 AND symbol = $2 AND time >= $3 AND time < $4
            GROUP BY bar
            """);
        command.Parameters.Add(new() { Value = exchange });
        command.Parameters.Add(new() { Value = symbol });
        command.Parameters.Add(new() { Value = first });
        command.Parameters.Add(new() { Value = klines[^1].OpenTime + barLength });
        command.Parameters.Add(new() { Value = (long)barLength.TotalMilliseconds });
        var perBar = new Dictionary<long, long>();
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                perBar[reader.GetInt64(0)] = reader.GetInt64(1);
            }
        }
        var prints = perBar.Values.Sum();
        var traded = klines.Where(k => k.Trades > 0).ToList();
        var uncovered = traded.Count(k => !perBar.ContainsKey((long)((k.OpenTime - first) / barLength)));
        if (prints == 0 || uncovered > 0)
        {
            return new TradeCoverage(false, prints,
                $"stored trades cover {traded.Count - uncovered} of the {traded.Count} bars that traded, so the bars were split into prints");
        }
        if (prints > MaxPrints)
        {
            return new TradeCoverage(false, prints, $"the range has {prints} stored trades, more than the {MaxPrints} a backtest reads, so the bars were split into prints; narrow the range to run on trades");
        }
        return new TradeCoverage(true, prints, $"{prints} stored trades cover all {traded.Count} bars that traded");
    }

    /// <summary>
    /// The market's stored trades in [<paramref name="from"/>, <paramref name="to"/>), oldest first, streamed: read
    /// synchronously on the backtest's own thread while it runs, never held in memory.
    /// </summary>
    public IEnumerable<Trade> Read(string exchange, string symbol, DateTimeOffset from, DateTimeOffset to)
    {
        using var connection = db.OpenConnection();
        using var command = new NpgsqlCommand("""
            SELECT trade_id, time, price, quantity, side, count FROM trades
            WHERE exchange = $1 AND symbol = $2 AND time >= $3 AND time < $4
            ORDER BY time, trade_id
            """, connection);
        command.Parameters.Add(new() { Value = exchange });
        command.Parameters.Add(new() { Value = symbol });
        command.Parameters.Add(new() { Value = from });
        command.Parameters.Add(new() { Value = to });
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            yield return new Trade(exchange, symbol, reader.GetInt64(0), reader.GetDecimal(2), reader.GetDecimal(3),
                reader.GetString(4) == "sell" ? TakerSide.Sell : TakerSide.Buy, reader.GetFieldValue<DateTimeOffset>(1), reader.GetInt32(5));
        }
    }
}
