namespace QuantTrader.Persistence.Ingest;

/// <summary>Configuration section <c>Persistence</c>.</summary>
public sealed class PersistenceOptions
{
    public const string Section = "Persistence";

    /// <summary>
    /// A batch is written when it holds this many rows (a message carrying several trades counts each of them)…
    /// </summary>
    public int BatchSize { get; set; } = 5000;

    /// <summary>…or this long after its first message arrived, whichever comes first.</summary>
    public TimeSpan BatchDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Batches written at once, each on its own connection, for tables whose writes commute (trades: insert-only);
    /// the others always have one writer, which keeps the stream's order.
    /// </summary>
    public int Writers { get; set; } = 2;

    /// <summary>How long JetStream waits for an ack before redelivering (batches in retry report progress).</summary>
    public TimeSpan AckWait { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Longest pause between two attempts while PostgreSQL is unreachable.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);
}
