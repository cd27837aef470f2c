using Npgsql;
using NpgsqlTypes;
using QuantTrader.Contracts.Trading;

namespace QuantTrader.Analytics.Equity;

/// <summary>The analytics tables: its fill ledger (analytics_fills, migration 0102) and equity_snapshots.</summary>
public sealed class EquityStore(NpgsqlDataSource dataSource)
{
    /// <summary>Records an applied fill and the equity right after it, in one transaction.</summary>
    public async Task RecordFillAsync(FillEvent fill, AppliedFill applied, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO analytics_fills (fill_id, user_id, strategy_id, exchange, symbol, side, price, quantity, fee, time, closes, realized_pnl)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (fill_id) DO NOTHING
            """, connection, tx))
        {
            insert.Parameters.Add(new() { Value = fill.Id });
            insert.Parameters.Add(new() { Value = fill.UserId });
            insert.Parameters.Add(new() { Value = (object?)fill.StrategyId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
            insert.Parameters.Add(new() { Value = fill.Exchange });
            insert.Parameters.Add(new() { Value = fill.Symbol });
            insert.Parameters.Add(new() { Value = fill.Side == OrderSide.Buy ? "buy" : "sell" });
            insert.Parameters.Add(new() { Value = fill.Price });
            insert.Parameters.Add(new() { Value = fill.Quantity });
            insert.Parameters.Add(new() { Value = fill.Fee });
            insert.Parameters.Add(new() { Value = fill.Time.ToUniversalTime() });
            insert.Parameters.Add(new() { Value = applied.Closes });
            insert.Parameters.Add(new() { Value = applied.RealizedPnl });
            await insert.ExecuteNonQueryAsync(ct);
        }
        await UpsertSnapshotAsync(connection, tx, fill.UserId, fill.Time, applied.EquityAfter, ct);
        await tx.CommitAsync(ct);
    }

    public async Task WriteSnapshotsAsync(IReadOnlyList<(Guid UserId, decimal Equity)> equities, DateTimeOffset time, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        foreach (var (userId, equity) in equities)
        {
            await UpsertSnapshotAsync(connection, tx, userId, time, equity, ct);
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>The ledger of one user partition's users in apply order, to rebuild their accounts when taking it over.</summary>
    public async Task<List<FillEvent>> LedgerAsync(int partition, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT fill_id, user_id, strategy_id, exchange, symbol, side, price, quantity, fee, time FROM analytics_fills WHERE user_partition = $1 ORDER BY position");
        command.Parameters.Add(new() { Value = (short)partition });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var ledger = new List<FillEvent>();
        while (await reader.ReadAsync(ct))
        {
            ledger.Add(new FillEvent(
                reader.GetGuid(0), Guid.Empty, reader.GetGuid(1), reader.IsDBNull(2) ? null : reader.GetGuid(2),
                reader.GetString(3), reader.GetString(4), reader.GetString(5) == "buy" ? OrderSide.Buy : OrderSide.Sell,
                reader.GetDecimal(6), reader.GetDecimal(7), reader.GetDecimal(8), "", Liquidity.Taker, 0,
                reader.GetFieldValue<DateTimeOffset>(9)));
        }
        return ledger;
    }

    /// <summary>The latest closed 1m kline close of each market seen in the last week (marks after a restart).</summary>
    public async Task LoadMarksAsync(Marks marks, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT DISTINCT ON (exchange, symbol) exchange, symbol, close, open_time FROM klines
            WHERE interval = '1m' AND closed AND open_time > now() - interval '7 days'
            ORDER BY exchange, symbol, open_time DESC
            """);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            marks.Set(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(3), reader.GetDecimal(2));
        }
    }

    private static async Task UpsertSnapshotAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Guid userId, DateTimeOffset time, decimal equity, CancellationToken ct)
    {
        await using var upsert = new NpgsqlCommand("""
            INSERT INTO equity_snapshots (user_id, time, equity) VALUES ($1, $2, $3)
            ON CONFLICT (user_id, time) DO UPDATE SET equity = EXCLUDED.equity
            """, connection, tx);
        upsert.Parameters.Add(new() { Value = userId });
        upsert.Parameters.Add(new() { Value = time.ToUniversalTime() });
        upsert.Parameters.Add(new() { Value = equity });
        await upsert.ExecuteNonQueryAsync(ct);
    }
}
