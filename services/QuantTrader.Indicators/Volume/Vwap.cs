namespace QuantTrader.Indicators;

/// <summary>
/// Volume-weighted average price anchored at the first bar fed (cumulative, never reset):
/// Σ(TP·volume)/Σvolume with TP = (high+low+close)/3. Kept as an exact decimal quotient of
/// Σ((H+L+C)·V) over 3·ΣV. Not ready while the cumulative volume is still zero (Binance publishes
/// zero-volume klines for quiet minutes).
/// </summary>
public sealed class Vwap : Indicator
{
    private decimal weightedTripleTypical;
    private decimal cumulativeVolume;

    /// <inheritdoc />
    public override string Name => "vwap";

    /// <summary>Latest VWAP (price units); 0 until some volume has traded.</summary>
    public decimal Value { get; private set; }

    /// <inheritdoc />
    protected override bool Accept(IndicatorBar bar)
    {
        weightedTripleTypical += (bar.High + bar.Low + bar.Close) * bar.Volume;
        cumulativeVolume += bar.Volume;
        if (cumulativeVolume == 0m)
        {
            return false;
        }

        Value = weightedTripleTypical / (3m * cumulativeVolume);
        return true;
    }

    /// <inheritdoc />
    protected override void WriteOutputs(IDictionary<string, double> outputs)
    {
        if (IsReady)
        {
            outputs["value"] = (double)Value;
        }
    }
}
