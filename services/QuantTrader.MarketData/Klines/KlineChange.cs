using QuantTrader.Contracts.MarketData;

namespace QuantTrader.MarketData.Klines;

/// <summary>One kline the aggregator published: the in-progress state after a trade, or a final closed kline.</summary>
public sealed record KlineChange(Kline Kline, KlineChangeKind Kind);

public enum KlineChangeKind
{
    /// <summary>The open kline of an interval after a trade was added (<see cref="Kline.Closed"/> is false).</summary>
    Updated,

    /// <summary>A kline with trades whose window ended; final.</summary>
    Closed,

    /// <summary>A window without trades: volume 0, O = H = L = C = the previous close (as Binance publishes it); final.</summary>
    ClosedEmpty,
}
