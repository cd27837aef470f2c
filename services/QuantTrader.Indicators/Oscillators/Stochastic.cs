namespace QuantTrader.Indicators;

/// <summary>
/// Stochastic oscillator. Raw %K = 100·(close − lowestLow)/(highestHigh − lowestLow) over
/// <c>kPeriod</c> bars (0 when the range is zero); K = SMA(raw, smooth) (first at bar
/// kPeriod+smooth−2); D = SMA(K, dPeriod) (first at bar kPeriod+smooth+dPeriod−3). Ready when D exists.
/// </summary>
public sealed class Stochastic : Indicator
{
    private readonly RollingExtreme highs;
    private readonly RollingExtreme lows;
    private readonly DoubleWindow kSmoothing;
    private readonly DoubleWindow dSmoothing;

    /// <summary>Creates a Stochastic(<paramref name="kPeriod"/>, <paramref name="dPeriod"/>, <paramref name="smooth"/>).</summary>
    public Stochastic(int kPeriod = 14, int dPeriod = 3, int smooth = 3)
    {
        RequirePeriod(kPeriod, nameof(kPeriod));
        RequirePeriod(dPeriod, nameof(dPeriod));
        RequirePeriod(smooth, nameof(smooth));
        highs = new RollingExtreme(kPeriod, isMax: true);
        lows = new RollingExtreme(kPeriod, isMax: false);
        kSmoothing = new DoubleWindow(smooth);
        dSmoothing = new DoubleWindow(dPeriod);
    }

    /// <inheritdoc />
    public override string Name => "stoch";

    /// <summary>%K (smoothed); NaN during warm-up.</summary>
    public double K { get; private set; } = double.NaN;

    /// <summary>%D = SMA of %K; NaN during warm-up.</summary>
    public double D { get; private set; } = double.NaN;

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
        var raw = range == 0m ? 0d : (double)(100m * (bar.Close - lows.Current) / range);
        kSmoothing.Add(raw);
        if (!kSmoothing.IsFull)
        {
            return false;
        }

        K = kSmoothing.Mean;
        dSmoothing.Add(K);
        if (!dSmoothing.IsFull)
        {
            return false;
        }

        D = dSmoothing.Mean;
        return true;
    }

    /// <inheritdoc />
    protected override void WriteOutputs(IDictionary<string, double> outputs)
    {
        AddIfDefined(outputs, "k", K);
        AddIfDefined(outputs, "d", D);
    }
}
