namespace QuantTrader.Indicators;

/// <summary>True range helper shared by ATR and ADX.</summary>
internal static class TrueRange
{
    /// <summary>max(high − low, |high − previousClose|, |low − previousClose|).</summary>
    public static decimal Of(IndicatorBar bar, decimal previousClose) =>
        Math.Max(bar.High - bar.Low, Math.Max(Math.Abs(bar.High - previousClose), Math.Abs(bar.Low - previousClose)));
}
