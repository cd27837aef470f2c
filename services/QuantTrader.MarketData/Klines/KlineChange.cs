using QuantTrader.Contracts.MarketData;

namespace QuantTrader.MarketData.Klines;

/// <summary>One kline the aggregator published: the in-progress state after a trade, or a final closed kline.</summary>
public sealed record KlineChange(Kline Kline, KlineChangeKind Kind);

/// <summary>
/// A closed kline re-issued with late trades added (<see cref="KlineAggregator.TakeAmendments"/>): <paramref name="Number"/>
/// is 1 for its first amendment, 2 for the next, …; <paramref name="LateTrades"/> is how many late trades this amendment
/// added (or, for an empty kline that follows an amended one, how often its price followed).
/// </summary>
public sealed record KlineAmendment(Kline Kline, int Number, int LateTrades);

public enum KlineChangeKind
{
    /// <summary>The open kline of an interval after a trade was added (<see cref="Kline.Closed"/> is false).</summary>
    Updated,

    /// <summary>A kline with trades whose window ended; final.</summary>
    Closed,

    /// <summary>A window without trades: volume 0, O = H = L = C = the previous close (as Binance publishes it); final.</summary>
    ClosedEmpty,
}
