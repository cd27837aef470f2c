namespace QuantTrader.Indicators;

/// <summary>
/// One closed bar (kline) fed to an indicator. Prices and volume stay <see cref="decimal"/> so that
/// windowed sums (SMA, Bollinger, VWAP, OBV, MFI) are exact and do not drift over a long stream.
/// </summary>
/// <param name="Time">Open time of the bar; indicators are forward-only, so each bar must be later than the last.</param>
/// <param name="Open">Open price.</param>
/// <param name="High">High price.</param>
/// <param name="Low">Low price.</param>
/// <param name="Close">Close price.</param>
/// <param name="Volume">Base-asset volume.</param>
public sealed record IndicatorBar(
    DateTimeOffset Time,
    decimal Open,
    decimal High,
    decimal Low,
    decimal Close,
    decimal Volume);
