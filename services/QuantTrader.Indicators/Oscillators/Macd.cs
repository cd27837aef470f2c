namespace QuantTrader.Indicators;

/// <summary>
/// MACD: line = EMA(fast) − EMA(slow) of the close (first at bar slow−1); signal = EMA(signal) of the
/// line seeded with the mean of its first <c>signal</c> values (first at bar slow+signal−2);
/// histogram = line − signal. Ready once the signal exists.
/// </summary>
public sealed class Macd : Indicator
{
    private readonly ExponentialSmoother fastEma;
    private readonly ExponentialSmoother slowEma;
    private readonly ExponentialSmoother signalEma;

    /// <summary>Creates a MACD(<paramref name="fast"/>, <paramref name="slow"/>, <paramref name="signal"/>).</summary>
    public Macd(int fast = 12, int slow = 26, int signal = 9)
    {
        RequirePeriod(fast, nameof(fast));
        RequirePeriod(slow, nameof(slow));
        RequirePeriod(signal, nameof(signal));
        if (slow <= fast)
        {
            throw new ArgumentOutOfRangeException(nameof(slow), slow, "slow must be greater than fast.");
        }

        fastEma = new ExponentialSmoother(fast);
        slowEma = new ExponentialSmoother(slow);
        signalEma = new ExponentialSmoother(signal);
    }

    /// <inheritdoc />
    public override string Name => "macd";

    /// <summary>MACD line; NaN until bar slow−1.</summary>
    public double Line { get; private set; } = double.NaN;

    /// <summary>Signal line; NaN until bar slow+signal−2.</summary>
    public double Signal => signalEma.Value;

    /// <summary>Line − Signal; NaN until the signal exists.</summary>
    public double Histogram => Line - Signal;

    /// <inheritdoc />
    protected override bool Accept(IndicatorBar bar)
    {
        var close = (double)bar.Close;
        fastEma.Add(close);
        if (!slowEma.Add(close))
        {
            return false;
        }

        Line = fastEma.Value - slowEma.Value;
        return signalEma.Add(Line);
    }

    /// <inheritdoc />
    protected override void WriteOutputs(IDictionary<string, double> outputs)
    {
        AddIfDefined(outputs, "macd", Line);
        AddIfDefined(outputs, "signal", Signal);
        AddIfDefined(outputs, "histogram", Histogram);
    }
}
