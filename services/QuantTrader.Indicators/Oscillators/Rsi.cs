namespace QuantTrader.Indicators;

/// <summary>
/// Relative Strength Index. Gains/losses are close-to-close changes from the second bar; average gain
/// and loss are Wilder-smoothed, seeded with the simple mean of the first <c>period</c> changes, so the
/// first value is at bar <c>period</c>. RSI = 100 − 100/(1 + avgGain/avgLoss), and 100 when avgLoss = 0.
/// </summary>
public sealed class Rsi : Indicator
{
    private readonly WilderSmoother gains;
    private readonly WilderSmoother losses;
    private decimal? previousClose;

    /// <summary>Creates an RSI over <paramref name="period"/> changes.</summary>
    public Rsi(int period = 14)
    {
        RequirePeriod(period, nameof(period));
        gains = new WilderSmoother(period);
        losses = new WilderSmoother(period);
    }

    /// <inheritdoc />
    public override string Name => "rsi";

    /// <summary>Latest RSI in [0, 100]; NaN during warm-up.</summary>
    public double Value { get; private set; } = double.NaN;

    /// <inheritdoc />
    protected override bool Accept(IndicatorBar bar)
    {
        if (previousClose is not { } previous)
        {
            previousClose = bar.Close;
            return false;
        }

        var change = bar.Close - previous;
        previousClose = bar.Close;
        gains.Add(change > 0m ? (double)change : 0d);
        if (!losses.Add(change < 0m ? (double)-change : 0d))
        {
            return false;
        }

        Value = losses.Value > 0d ? 100d - (100d / (1d + (gains.Value / losses.Value))) : 100d;
        return true;
    }

    /// <inheritdoc />
    protected override void WriteOutputs(IDictionary<string, double> outputs) => AddIfDefined(outputs, "value", Value);
}
