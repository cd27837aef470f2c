namespace QuantTrader.Indicators;

/// <summary>
/// Williams %R = −100·(highestHigh − close)/(highestHigh − lowestLow) over <c>period</c> bars, in
/// [−100, 0]; −100 when the range is zero (as the reference, which derives it from the raw stochastic).
/// First value at bar period−1.
/// </summary>
public sealed class WilliamsR : Indicator
{
    private readonly RollingExtreme highs;
    private readonly RollingExtreme lows;

    /// <summary>Creates a Williams %R over <paramref name="period"/> bars.</summary>
    public WilliamsR(int period = 14)
    {
        RequirePeriod(period, nameof(period));
        highs = new RollingExtreme(period, isMax: true);
        lows = new RollingExtreme(period, isMax: false);
    }

    /// <inheritdoc />
    public override string Name => "willr";

    /// <summary>Latest %R; NaN during warm-up.</summary>
    public double Value { get; private set; } = double.NaN;

    /// <inheritdoc />
    protected override bool Accept(IndicatorBar bar)
    {
        highs.Add(bar.High);
        lows.Add(bar.Low);
        if (!highs.IsFull)
        {
            return false;
        }

        var range = highs.Current - lows.Current;
        Value = range == 0m ? -100d : (double)(-100m * (highs.Current - bar.Close) / range);
        return true;
    }

    /// <inheritdoc />
    protected override void WriteOutputs(IDictionary<string, double> outputs) => AddIfDefined(outputs, "value", Value);
}
