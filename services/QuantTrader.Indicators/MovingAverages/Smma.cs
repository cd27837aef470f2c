namespace QuantTrader.Indicators;

/// <summary>
/// Smoothed moving average (Wilder/RMA): seeded with the SMA of the first <c>period</c> closes
/// (first value at bar period−1), then <c>smma = (smma·(period−1) + close) / period</c>.
/// </summary>
public sealed class Smma : Indicator
{
    private readonly WilderSmoother smoother;

    /// <summary>Creates an SMMA over <paramref name="period"/> closes.</summary>
    public Smma(int period = 20)
    {
        RequirePeriod(period, nameof(period));
        smoother = new WilderSmoother(period);
    }

    /// <inheritdoc />
    public override string Name => "smma";

    /// <summary>Latest SMMA; NaN during warm-up.</summary>
    public double Value => smoother.Value;

    /// <inheritdoc />
    protected override bool Accept(IndicatorBar bar) => smoother.Add((double)bar.Close);

    /// <inheritdoc />
    protected override void WriteOutputs(IDictionary<string, double> outputs) => AddIfDefined(outputs, "value", Value);
}
