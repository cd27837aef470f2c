using NATS.Client.Core;
using NATS.Client.JetStream.Models;
using Npgsql;

namespace QuantTrader.Persistence.Ingest;

/// <summary>
/// What decoding one message gave: rows to store (one, or several when the message carries a batch — trades, see
/// <c>TradeMessages</c>), nothing to store (ack it), or a poison message.
/// </summary>
public readonly record struct Decoded<TRow>(TRow? Row, string? PoisonReason, bool Skip, IReadOnlyList<TRow>? Batch = null)
{
    public static Decoded<TRow> Store(TRow row) => new(row, null, false);
    public static Decoded<TRow> StoreAll(IReadOnlyList<TRow> rows) => rows.Count == 0 ? Ignore() : new(default, null, false, rows);
    public static Decoded<TRow> Ignore() => new(default, null, true);
    public static Decoded<TRow> Poison(string reason) => new(default, reason, false);

    /// <summary>Rows this message adds to a batch: what batch sizes and the saver's memory bound count.</summary>
    public int RowCount => Skip || PoisonReason is not null ? 0 : Batch?.Count ?? 1;
}

/// <summary>
/// One table fed by one durable JetStream consumer: which stream and subjects, how a message becomes a row, and
/// how a batch of rows is written and committed (the caller acks nothing before <see cref="WriteAsync"/> returns).
/// </summary>
public interface IEventSink<TRow>
{
    /// <summary>The table, used in metrics, logs and dead-letter headers.</summary>
    string Table { get; }

    /// <summary>Durable consumer name: the position in the stream survives restarts.</summary>
    string Durable { get; }

    StreamConfig Stream();

    /// <summary>Subjects of the stream this consumer reads; null for all of them.</summary>
    string? FilterSubject { get; }

    Decoded<TRow> Decode(string subject, byte[]? data);

    /// <summary>For sinks whose rows depend on a header too (klines: the amendment number); the others ignore them.</summary>
    Decoded<TRow> Decode(string subject, NatsHeaders? headers, byte[]? data) => Decode(subject, data);

    /// <summary>
    /// True when batches may be written concurrently, on several connections, in any order, with the same result:
    /// rows that are only ever inserted, conflicts ignored. False where a later message must win (upserts).
    /// </summary>
    bool WritesCommute { get; }

    /// <summary>
    /// Writes the rows and commits them, all or nothing (duplicates allowed: writing is idempotent); returns rows
    /// inserted or updated. The connection is open and not in a transaction.
    /// </summary>
    Task<int> WriteAsync(NpgsqlConnection connection, IReadOnlyList<TRow> rows, CancellationToken ct);
}
