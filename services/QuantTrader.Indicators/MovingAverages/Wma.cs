namespace QuantTrader.Indicators;

/// <summary>
/// Linearly weighted moving average: Σ(wᵢ·closeᵢ) / (period·(period+1)/2) with weight 1 for the oldest
/// and <c>period</c> for the newest close. First value at bar period−1. The weighted numerator is updated
/// in O(1) as <c>num' = num − Σwindow + period·close</c>, exactly, in decimal.
/// </summary>
public sealed class Wma : Indicator
{
    private readonly DecimalWindow window;
    private readonly int period;
    private readonly decimal divisor;
    private decimal numerator;

    /// <summary>Creates a WMA over <paramref name="period"/> closes.</summary>
    public Wma(int period = 14)
    {
        RequirePeriod(period, nameof(period));
        this.period = period;
        window = new DecimalWindow(period);
        divisor = period * (period + 1) / 2m;
    }

    /// <inheritdoc />
    public override string Name => "wma";

    /// <summary>Latest WMA; NaN during warm-up.</summary>
    public double Value { get; private set; } = double.NaN;

    /// <inheritdoc />
    protected override bool Accept(IndicatorBar bar)
    {
        if (window.IsFull)
        {
            // Every value slides one weight down (−Σwindow, which also drops the oldest at weight 1)
            // and the new close enters at full weight.
            numerator += (period * bar.Close) - window.Sum;
        }
        else
        {
            // During warm-up the k-th close gets weight k, which is its final weight once the window fills.
            numerator += (window.Count + 1) * bar.Close;
        }

        window.Add(bar.Close);
        if (!window.IsFull)
        {
            return false;
        }

        Value = (double)(numerator / divisor);
        return true;
    }

    /// <inheritdoc />
    protected override void WriteOutputs(IDictionary<string, double> outputs) => AddIfDefined(outputs, "value", Value);
}
