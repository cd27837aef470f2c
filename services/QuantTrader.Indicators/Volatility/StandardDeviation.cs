namespace QuantTrader.Indicators;

/// <summary>
/// Rolling population standard deviation of the close, √(Σ(x−mean)²/N) over <c>period</c> bars.
/// First value at bar period−1. Sums are exact decimals, so there is no catastrophic cancellation.
/// </summary>
public sealed class StandardDeviation : Indicator
{
    private readonly DecimalWindow window;

    /// <summary>Creates a standard deviation over <paramref name="period"/> closes.</summary>
    public StandardDeviation(int period = 14)
    {
        RequirePeriod(period, nameof(period));
        window = new DecimalWindow(period);
    }

    /// <inheritdoc />
    public override string Name => "stdev";

    /// <summary>Latest σ; NaN during warm-up.</summary>
    public double Value { get; private set; } = double.NaN;

    /// <inheritdoc />
    protected override bool Accept(IndicatorBar bar)
    {
        window.Add(bar.Close);
        if (!window.IsFull)
        {
            return false;
        }

        Value = Math.Sqrt((double)window.PopulationVariance);
        return true;
    }

    /// <inheritdoc />
    protected override void WriteOutputs(IDictionary<string, double> outputs) => AddIfDefined(outputs, "value", Value);
}
