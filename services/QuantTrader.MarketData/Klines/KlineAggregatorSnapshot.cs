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
    long LateTrades);

/// <summary>
/// The state of one interval. <paramref name="Open"/> is the in-progress kline (null when none is open);
/// <paramref name="LastClosedOpenTime"/>/<paramref name="LastClose"/> describe the last kline closed, which decides
/// both what is late and the price of empty klines. <paramref name="LateTrades"/> counts trades dropped for this interval.
/// </summary>
public sealed record KlineIntervalSnapshot(
    string Interval,
    Kline? Open,
    DateTimeOffset? LastClosedOpenTime,
    decimal? LastClose,
    long LateTrades);
