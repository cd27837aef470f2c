namespace QuantTrader.Indicators;

/// <summary>
/// A streaming technical indicator: feed closed bars in time order, read the latest values.
/// Every implementation costs O(1) (amortised) per bar except CCI, whose mean absolute deviation
/// is O(period) per bar by definition.
/// </summary>
public interface IIndicator
{
    /// <summary>REST name of the indicator (e.g. <c>"sma"</c>, <c>"macd"</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Adds the next closed bar. Returns <see cref="IsReady"/>: true once every output is defined.
    /// Throws <see cref="ArgumentException"/> if the bar is not strictly later than the previous one.
    /// </summary>
    bool Update(IndicatorBar bar);

    /// <summary>True once every output of the indicator is defined (warm-up finished).</summary>
    bool IsReady { get; }

    /// <summary>
    /// The outputs defined after the latest bar, keyed by their REST names (<c>"value"</c> for a single
    /// output). A multi-output indicator can expose some keys before it is ready, e.g. MACD exposes
    /// <c>"macd"</c> from bar slow−1 but <c>"signal"</c>/<c>"histogram"</c> only from bar slow+signal−2,
    /// mirroring the warm-up of the reference implementation. Empty during warm-up.
    /// </summary>
    IReadOnlyDictionary<string, double> Outputs { get; }
}
