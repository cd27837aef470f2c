namespace QuantTrader.Indicators;

/// <summary>
/// Triple EMA: <c>3·ema1 − 3·ema2 + ema3</c> (ema2 = EMA(ema1), ema3 = EMA(ema2)), all three seeded with
/// the SMA of the first <c>period</c> closes as in Stock.Indicators, so the first value is at bar period−1.
/// </summary>
public sealed class Tema : Indicator
{
    private readonly int period;
    private readonly double k;
    private double seedSum;
    private int seen;
    private double ema1;
    private double ema2;
    private double ema3;

    /// <summary>Creates a TEMA over <paramref name="period"/> closes.</summary>
    public Tema(int period = 20)
    {
        RequirePeriod(period, nameof(period));
        this.period = period;
        k = 2d / (period + 1);
    }

    /// <inheritdoc />
    public override string Name => "tema";

    /// <summary>Latest TEMA; NaN during warm-up.</summary>
    public double Value { get; private set; } = double.NaN;

    /// <inheritdoc />
    protected override bool Accept(IndicatorBar bar)
    {
        var close = (double)bar.Close;
        if (seen < period)
        {
            seedSum += close;
            if (++seen < period)
            {
                return false;
            }

            ema1 = ema2 = ema3 = seedSum / period;
        }
        else
        {
            ema1 += k * (close - ema1);
            ema2 += k * (ema1 - ema2);
            ema3 += k * (ema2 - ema3);
        }

        Value = (3d * ema1) - (3d * ema2) + ema3;
        return true;
    }

    /// <inheritdoc />
    protected override void WriteOutputs(IDictionary<string, double> outputs) => AddIfDefined(outputs, "value", Value);
}
