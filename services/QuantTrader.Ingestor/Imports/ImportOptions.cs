namespace QuantTrader.Ingestor.Imports;

/// <summary>The <c>Imports</c> section of the ingestor's configuration.</summary>
public sealed class ImportOptions
{
    public const string Section = "Imports";

    /// <summary>
    /// Where uploads wait for their import. The folder belongs to the ingestor alone: it is emptied at start (an upload
    /// there is from a run that ended), so it must not be shared with another ingestor.
    /// </summary>
    public string TempDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "quanttrader-imports");

    /// <summary>
    /// How long an import waits for room in MARKET_HISTORY (full: it refuses new messages rather than evict) before it
    /// fails, naming the stream.
    /// </summary>
    public TimeSpan HistoryStreamFullPatience { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long a trade import, once its trades are published, waits for the klines they make to be stored before it
    /// says <c>completed</c> anyway (logged as a warning: the kline service or persistence is down or far behind).
    /// </summary>
    public TimeSpan KlinePatience { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the stored klines of a finished trade import are counted while it waits for them.</summary>
    public TimeSpan KlinePollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long an import waits for PostgreSQL to come back (its progress, kline rows) before it fails.</summary>
    public TimeSpan DatabasePatience { get; set; } = TimeSpan.FromMinutes(10);
}
