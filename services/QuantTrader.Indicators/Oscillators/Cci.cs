namespace QuantTrader.Indicators;

/// <summary>
/// Commodity Channel Index = (TP − SMA(TP)) / (0.015 · meanAbsoluteDeviation(TP)) over <c>period</c>
/// bars, TP = (high+low+close)/3. First value at bar period−1. The mean absolute deviation needs every
/// value in the window against the current mean, so this one indicator is O(period) per bar. A window
/// with no deviation (all TP equal) gives 0, the limit of a price sitting on its mean (the reference
/// leaves it undefined).
/// </summary>
public sealed class Cci : Indicator
{
    private readonly DecimalWindow typicalSums;

    /// <summary>Creates a CCI over <paramref name="period"/> bars.</summary>
    public Cci(int period = 20)
    {
        RequirePeriod(period, nameof(period));
        typicalSums = new DecimalWindow(period);
    }

    /// <inheritdoc />
    public override string Name => "cci";

    /// <summary>Latest CCI; NaN during warm-up.</summary>
    public double Value { get; private set; } = double.NaN;

    /// <inheritdoc />
    protected override bool Accept(IndicatorBar bar)
    {
        // Work with 3·TP = H+L+C: exact in decimal, and the factor 3 cancels in the ratio.
        var tripleTypical = bar.High + bar.Low + bar.Close;
        typicalSums.Add(tripleTypical);
        if (!typicalSums.IsFull)
        {
            return false;
        }

        var mean = typicalSums.Mean;
        var deviation = 0m;
        for (var i = 0; i < typicalSums.Period; i++)
        {
            deviation += Math.Abs(typicalSums[i] - mean);
        }

        deviation /= typicalSums.Period;
        Value = deviation == 0m ? 0d : (double)((tripleTypical - mean) / (0.015m * deviation));
        return true;
    }

    /// <inheritdoc />
    protected override void WriteOutputs(IDictionary<string, double> outputs) => AddIfDefined(outputs, "value", Value);
}
