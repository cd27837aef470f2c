using Npgsql;
using NpgsqlTypes;
using QuantTrader.Contracts.MarketData;

namespace QuantTrader.Ingestor.Imports;

public sealed record ImportStatus(Guid Id, string Exchange, string Symbol, string Format, string Status, long Rows, long RejectedRows, string? FirstError, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>Import state in <c>market_imports</c> (migration 0200), and kline rows of kline imports.</summary>
public sealed class ImportStore(NpgsqlDataSource db)
{
    public async Task CreateAsync(Guid id, Guid userId, string exchange, string symbol, string format, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "INSERT INTO market_imports (id, user_id, exchange, symbol, format, status) VALUES ($1, $2, $3, $4, $5, 'queued')");
        cmd.Parameters.Add(new() { Value = id });
        cmd.Parameters.Add(new() { Value = userId });
        cmd.Parameters.Add(new() { Value = exchange });
        cmd.Parameters.Add(new() { Value = symbol });
        cmd.Parameters.Add(new() { Value = format });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task UpdateAsync(Guid id, string status, long rows, long rejected, string? firstError, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "UPDATE market_imports SET status = $2, rows = $3, rejected_rows = $4, first_error = $5, updated_at = now() WHERE id = $1");
        cmd.Parameters.Add(new() { Value = id });
        cmd.Parameters.Add(new() { Value = status });
        cmd.Parameters.Add(new() { Value = rows });
        cmd.Parameters.Add(new() { Value = rejected });
        cmd.Parameters.Add(new() { Value = (object?)firstError ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The import if it belongs to <paramref name="userId"/>; someone else's is as absent as an unknown one.</summary>
    public async Task<ImportStatus?> FindAsync(Guid id, Guid userId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            SELECT id, exchange, symbol, format, status, rows, rejected_rows, first_error, created_at, updated_at
            FROM market_imports WHERE id = $1 AND user_id = $2
            """);
        cmd.Parameters.Add(new() { Value = id });
        cmd.Parameters.Add(new() { Value = userId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }

        return new ImportStatus(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
            reader.GetInt64(5), reader.GetInt64(6), reader.IsDBNull(7) ? null : reader.GetString(7),
            reader.GetFieldValue<DateTimeOffset>(8), reader.GetFieldValue<DateTimeOffset>(9));
    }

    /// <summary>
    /// The advisory lock key of an import (two ints: the id's hash, -1; slots use the user's hash and 0, 1, …): held by
    /// the <see cref="ImportSlot"/> of whichever replica is importing it.
    /// </summary>
    internal static string ImportLockSql(string id) => $"hashtext({id}::text), -1";

    /// <summary>
    /// Imports queued or running on a replica that is gone (crashed, or stopped before they finished): their upload is
    /// gone with it, say so. An import whose lock a live replica holds is left alone, as are this replica's own
    /// (<paramref name="ours"/>) and, with <paramref name="quietFor"/>, imports that changed within that time (an
    /// import taken over without a slot, by a runner driven directly, has no lock).
    /// </summary>
    public async Task<int> FailInterruptedAsync(Guid[] ours, TimeSpan quietFor, CancellationToken ct)
    {
        // pg_try_advisory_xact_lock fails while the import's replica holds its session lock, and is given back at commit.
        await using var cmd = db.CreateCommand($"""
            UPDATE market_imports SET status = 'failed', updated_at = now(),
                   first_error = coalesce(first_error, 'interrupted: the ingestor that received it stopped before the import finished; upload the file again')
            WHERE status IN ('queued', 'running') AND NOT (id = ANY($1)) AND updated_at <= now() - $2::interval
              AND pg_try_advisory_xact_lock({ImportLockSql("id")})
            """);
        cmd.Parameters.Add(new() { Value = ours });
        cmd.Parameters.Add(new() { Value = quietFor });
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>How many klines of one interval are stored with an open time in [<paramref name="from"/>, <paramref name="to"/>].</summary>
    public async Task<long> CountKlinesAsync(string exchange, string symbol, string interval, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "SELECT count(*) FROM klines WHERE exchange = $1 AND symbol = $2 AND interval = $3 AND open_time BETWEEN $4 AND $5");
        cmd.Parameters.Add(new() { Value = exchange });
        cmd.Parameters.Add(new() { Value = symbol });
        cmd.Parameters.Add(new() { Value = interval });
        cmd.Parameters.Add(new() { Value = from });
        cmd.Parameters.Add(new() { Value = to });
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>Stores closed klines; a kline already stored (same market, interval and open time) is left as it is.</summary>
    public async Task StoreKlinesAsync(IReadOnlyList<Kline> klines, CancellationToken ct)
    {
        if (klines.Count == 0)
        {
            return;
        }

        await using var cmd = db.CreateCommand("""
            INSERT INTO klines (exchange, symbol, interval, open_time, close_time, open, high, low, close, volume, quote_volume,
                                trades, taker_buy_volume, taker_buy_quote_volume, closed)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::numeric[], $7::numeric[],
                                 $8::numeric[], $9::numeric[], $10::numeric[], $11::numeric[], $12::bigint[], $13::numeric[], $14::numeric[], $15::boolean[])
            ON CONFLICT DO NOTHING
            """);
        cmd.Parameters.Add(new() { Value = klines.Select(k => k.Exchange).ToArray() });
        cmd.Parameters.Add(new() { Value = klines.Select(k => k.Symbol).ToArray() });
        cmd.Parameters.Add(new() { Value = klines.Select(k => k.Interval).ToArray() });
        cmd.Parameters.Add(new() { Value = klines.Select(k => k.OpenTime).ToArray() });
        cmd.Parameters.Add(new() { Value = klines.Select(k => k.CloseTime).ToArray() });
        cmd.Parameters.Add(new() { Value = klines.Select(k => k.Open).ToArray() });
        cmd.Parameters.Add(new() { Value = klines.Select(k => k.High).ToArray() });
        cmd.Parameters.Add(new() { Value = klines.Select(k => k.Low).ToArray() });
        cmd.Parameters.Add(new() { Value = klines.Select(k => k.Close).ToArray() });
        cmd.Parameters.Add(new() { Value = klines.Select(k => k.Volume).ToArray() });
        cmd.Parameters.Add(new() { Value = klines.Select(k => k.QuoteVolume).ToArray() });
        cmd.Parameters.Add(new() { Value = klines.Select(k => k.Trades).ToArray() });
        cmd.Parameters.Add(new() { Value = klines.Select(k => k.TakerBuyVolume).ToArray() });
        cmd.Parameters.Add(new() { Value = klines.Select(k => k.TakerBuyQuoteVolume).ToArray() });
        cmd.Parameters.Add(new() { Value = klines.Select(k => k.Closed).ToArray() });
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
