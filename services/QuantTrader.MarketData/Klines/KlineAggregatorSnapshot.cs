using QuantTrader.Contracts.MarketData;

namespace QuantTrader.MarketData.Klines;

/// <summary>
/// Everything a <see cref="KlineAggregator"/> needs to carry on after a restart. Plain data, JSON-serializable
/// (<c>System.Text.Json</c> handles the records as they are).
/// </summary>
public sealed record KlineAggregatorSnapshot(
    string Exchange,
    string Symbol,
    IReadOnlyList<KlineIntervalSnapshot> Intervals,
    long LateTrades,
    long AmendedTrades = 0);

/// <summary>
/// The state of one interval. <paramref name="Open"/> is the in-progress kline (null when none is open);
/// <paramref name="LastClosedOpenTime"/>/<paramref name="LastClose"/> describe the last kline closed, which decides
/// both what is late and the price of empty klines. <paramref name="LateTrades"/> counts trades dropped for this interval.
/// <paramref name="Recent"/> are the closed klines kept for amendments, oldest first (null: none, and in every snapshot
/// written before amendments existed, which therefore still restores).
/// </summary>
public sealed record KlineIntervalSnapshot(
    string Interval,
    Kline? Open,
    DateTimeOffset? LastClosedOpenTime,
    decimal? LastClose,
    long LateTrades,
    IReadOnlyList<KlineClosedSnapshot>? Recent = null);

/// <summary>A closed kline kept for amendments, as last published, and how many amendments of it were published.</summary>
public sealed record KlineClosedSnapshot(Kline Kline, int Amendments);
