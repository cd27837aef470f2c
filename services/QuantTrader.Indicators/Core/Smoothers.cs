namespace QuantTrader.Indicators;

/// <summary>
/// Exponential moving average seeded with the simple mean of its first <c>period</c> inputs, then
/// <c>ema = ema + k·(x − ema)</c> with <c>k = 2/(period+1)</c> — the Stock.Indicators formulation,
/// reproduced operation for operation so results match it bit for bit.
/// </summary>
internal sealed class ExponentialSmoother
{
    private readonly int period;
    private readonly double k;
    private double seedSum;
    private int seen;

    public ExponentialSmoother(int period)
    {
        this.period = period;
        k = 2d / (period + 1);
    }

    public bool IsReady => seen >= period;

    public double Value { get; private set; } = double.NaN;

    public bool Add(double value)
    {
        if (seen < period)
        {
            seedSum += value;
            seen++;
            if (seen == period)
            {
                Value = seedSum / period;
            }

            return IsReady;
        }

        Value += k * (value - Value);
        return true;
    }
}

/// <summary>
/// Wilder's smoothing (SMMA/RMA): seeded with the simple mean of the first <c>period</c> inputs, then
/// <c>v = (v·(period−1) + x) / period</c>. Used by SMMA, RSI, ATR and ADX.
/// </summary>
internal sealed class WilderSmoother
{
    private readonly int period;
    private double seedSum;
    private int seen;

    public WilderSmoother(int period) => this.period = period;

    public bool IsReady => seen >= period;

    public double Value { get; private set; } = double.NaN;

    public bool Add(double value)
    {
        if (seen < period)
        {
            seedSum += value;
            seen++;
            if (seen == period)
            {
                Value = seedSum / period;
            }

            return IsReady;
        }

        Value = ((Value * (period - 1)) + value) / period;
        return true;
    }
}
