namespace QuantTrader.Kline.Aggregation;

/// <summary>Configuration section <c>Klines</c> (see docs/klines.md).</summary>
public sealed class KlineOptions
{
    public const string Section = "Klines";

    /// <summary>
    /// How long after a window's end the clock waits before closing it, so trades that reach us a little late
    /// still count. A trade arriving after that is late: dropped for that interval and counted (metric
    /// <c>quanttrader.kline.late_trades</c>).
    /// </summary>
    public TimeSpan AllowedLateness { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a closed live kline still takes late trades as an amendment (re-published with them added, header
    /// <c>QuantTrader-Amendment</c>) instead of dropping them: while its window ended no more than this before the
    /// latest window end the market's aggregator has closed. It must cover an ingestor hand-over (lease lapse ~15 s)
    /// plus the REST backfill of its gap; 5 minutes leaves a wide margin and is also MARKET_KLINE's duplicate window, so
    /// a replayed amendment is always still recognised. Zero: never amend (every late trade is dropped).
    /// </summary>
    public TimeSpan AmendWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>At most one update of the open kline per symbol and interval in this period (the latest state wins).</summary>
    public TimeSpan OpenUpdateInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the clock is applied and rate-limited open updates are flushed.</summary>
    public TimeSpan ClockTick { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Minimum period between two checkpoints caused by trade-closed klines (clock closes checkpoint at once).</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>An import that sent nothing for this long gets its last (still open) klines published once.</summary>
    public TimeSpan HistoryIdle { get; set; } = TimeSpan.FromSeconds(5);
}
