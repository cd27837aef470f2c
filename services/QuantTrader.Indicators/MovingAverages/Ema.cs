namespace QuantTrader.Indicators;

/// <summary>
/// Exponential moving average of the close, k = 2/(period+1), seeded with the SMA of the first
/// <c>period</c> closes (first value at bar period−1), then <c>ema += k·(close − ema)</c>.
/// </summary>
public sealed class Ema : Indicator
{
    private readonly ExponentialSmoother smoother;

    /// <summary>Creates an EMA over <paramref name="period"/> closes.</summary>
    public Ema(int period = 20)
    {
        RequirePeriod(period, nameof(period));
        smoother = new ExponentialSmoother(period);
    }

    /// <inheritdoc />
    public override string Name => "ema";

    /// <summary>Latest EMA; NaN during warm-up.</summary>
    public double Value => smoother.Value;

    /// <inheritdoc />
    protected override bool Accept(IndicatorBar bar) => smoother.Add((double)bar.Close);

    /// <inheritdoc />
    protected override void WriteOutputs(IDictionary<string, double> outputs) => AddIfDefined(outputs, "value", Value);
}
