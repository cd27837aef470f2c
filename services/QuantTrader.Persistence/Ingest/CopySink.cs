using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream.Models;
using Npgsql;

namespace QuantTrader.Persistence.Ingest;

/// <summary>
/// Writes a batch with binary COPY into a temporary staging table, then one <c>INSERT … SELECT … ON CONFLICT</c>
/// into the real table: COPY is the fastest way in, and the staging step is what lets conflicts be ignored
/// (trades, fills, alert events) or upserted (klines, orders), so a redelivered message never duplicates a row.
/// </summary>
public abstract class CopySink<TRow> : IEventSink<TRow>
{
    public abstract string Table { get; }
    public abstract string Durable { get; }
    public abstract string? FilterSubject { get; }
    public abstract StreamConfig Stream();
    public abstract Decoded<TRow> Decode(string subject, byte[]? data);

    public virtual Decoded<TRow> Decode(string subject, NatsHeaders? headers, byte[]? data) => Decode(subject, data);

    /// <summary>Column list, in the order <see cref="WriteRow"/> writes them.</summary>
    protected abstract string Columns { get; }

    /// <summary>The <c>ON CONFLICT …</c> clause of the final insert.</summary>
    protected abstract string OnConflict { get; }

    protected abstract void WriteRow(NpgsqlBinaryImporter writer, TRow row);

    /// <summary>
    /// Upserts must not see one key twice in one statement (PostgreSQL refuses "to affect a row a second time"):
    /// those sinks keep the newest version of each key here.
    /// </summary>
    protected virtual IReadOnlyList<TRow> Deduplicate(IReadOnlyList<TRow> rows) => rows;

    /// <summary>
    /// True for sinks whose rows are only ever inserted and whose conflicts are rare (a redelivery, a replay): the
    /// batch is first copied straight into <see cref="Table"/>, and only when that hits a key already stored (unique
    /// violation, so nothing of it was stored) is it written through the staging table. The result is the same rows
    /// either way; the common case skips the staging COPY and the <c>INSERT … SELECT … ON CONFLICT</c>, whose
    /// speculative insertion into a partitioned table was most of the saver's time (docs/benchmarks.md, batch saver).
    /// Such writes also commute (<see cref="WritesCommute"/>).
    /// </summary>
    protected virtual bool CopyDirectlyFirst => false;

    public bool WritesCommute => CopyDirectlyFirst;

    public async Task<int> WriteAsync(NpgsqlConnection connection, IReadOnlyList<TRow> rows, CancellationToken ct)
    {
        var unique = Deduplicate(rows);
        if (CopyDirectlyFirst)
        {
            try
            {
                // Outside an explicit transaction one COPY is its own transaction, committed (or not at all) by the
                // time it completes: two round trips for the batch instead of BEGIN, SAVEPOINT, COPY, RELEASE, COMMIT.
                return Copy(connection, Table, unique);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                // Some of these rows are stored already and none of this COPY was: let ON CONFLICT sort them out.
            }
        }

        await using var tx = await connection.BeginTransactionAsync(ct);
        var stage = Table + "_stage";
        await ExecuteAsync(connection, $"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {Table}) ON COMMIT DELETE ROWS", ct);
        Copy(connection, stage, unique);
        int written;
        await using (var insert = new NpgsqlCommand($"INSERT INTO {Table} ({Columns}) SELECT {Columns} FROM {stage} {OnConflict}", connection))
        {
            written = await insert.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return written;
    }

    private int Copy(NpgsqlConnection connection, string table, IReadOnlyList<TRow> rows)
    {
        // The synchronous importer: ~1.3 M rows/s here against ~0.85 M for the async one (PLATFORM.md).
        using var writer = connection.BeginBinaryImport($"COPY {table} ({Columns}) FROM STDIN (FORMAT BINARY)");
        foreach (var row in rows)
        {
            writer.StartRow();
            WriteRow(writer, row);
        }
        return (int)writer.Complete(); // without it the COPY is rolled back
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Deserializes with the bus's source-generated JSON; malformed JSON is a poison message.</summary>
    protected static Decoded<TRow> Parse<T>(byte[]? data, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, Func<T, string?> validate, Func<T, TRow> toRow)
    {
        if (data is null || data.Length == 0)
        {
            return Decoded<TRow>.Poison("empty payload");
        }
        T? value;
        try
        {
            value = JsonSerializer.Deserialize(data, type);
        }
        catch (JsonException ex)
        {
            return Decoded<TRow>.Poison($"not a valid {typeof(T).Name}: {ex.Message}");
        }
        if (value is null)
        {
            return Decoded<TRow>.Poison($"not a valid {typeof(T).Name}: null");
        }
        try
        {
            return validate(value) is { } problem ? Decoded<TRow>.Poison(problem) : Decoded<TRow>.Store(toRow(value));
        }
        catch (NullReferenceException)
        {
            // A required string missing from the JSON leaves a null in a non-nullable property.
            return Decoded<TRow>.Poison($"not a valid {typeof(T).Name}: a required field is missing");
        }
    }

    /// <summary>Enums are stored as on the wire: snake_case (<c>stop_market</c>).</summary>
    protected static string Wire<TEnum>(TEnum value) where TEnum : struct, Enum => WireNames<TEnum>.Of(value);

    private static class WireNames<TEnum> where TEnum : struct, Enum
    {
        private static readonly Dictionary<TEnum, string> Names =
            Enum.GetValues<TEnum>().ToDictionary(v => v, v => JsonNamingPolicy.SnakeCaseLower.ConvertName(v.ToString()));

        public static string Of(TEnum value) => Names.TryGetValue(value, out var name) ? name : value.ToString();
    }
}
