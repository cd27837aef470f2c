namespace QuantTrader.Indicators;

/// <summary>
/// Double EMA: <c>2·ema1 − ema2</c> where ema1 = EMA(close) and ema2 = EMA(ema1). As in Stock.Indicators,
/// both are seeded with the SMA of the first <c>period</c> closes, so the first value is at bar period−1
/// (not 2·period−2).
/// </summary>
public sealed class Dema : Indicator
{
    private readonly int period;
    private readonly double k;
    private double seedSum;
    private int seen;
    private double ema1;
    private double ema2;

    /// <summary>Creates a DEMA over <paramref name="period"/> closes.</summary>
    public Dema(int period = 14)
    {
        RequirePeriod(period, nameof(period));
        this.period = period;
        k = 2d / (period + 1);
    }

    /// <inheritdoc />
    public override string Name => "dema";

    /// <summary>Latest DEMA; NaN during warm-up.</summary>
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

            ema1 = ema2 = seedSum / period;
        }
        else
        {
            ema1 += k * (close - ema1);
            ema2 += k * (ema1 - ema2);
        }

        Value = (2d * ema1) - ema2;
        return true;
    }

    /// <inheritdoc />
    protected override void WriteOutputs(IDictionary<string, double> outputs) => AddIfDefined(outputs, "value", Value);
}
