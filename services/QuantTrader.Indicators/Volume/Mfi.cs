namespace QuantTrader.Indicators;

/// <summary>
/// Money Flow Index. TP = (H+L+C)/3 and raw flow = TP·volume; from the second bar a flow is positive
/// when TP rose, negative when it fell, neither when flat. Over the last <c>period</c> flows,
/// MFI = 100 − 100/(1 + Σpositive/Σnegative), 100 when there is no negative flow. First value at bar
/// <c>period</c>. Flows use 3·TP in exact decimal; the factor cancels in the ratio.
/// </summary>
public sealed class Mfi : Indicator
{
    private readonly DecimalWindow positiveFlows;
    private readonly DecimalWindow negativeFlows;
    private decimal? previousTripleTypical;

    /// <summary>Creates an MFI over <paramref name="period"/> flows.</summary>
    public Mfi(int period = 14)
    {
        RequirePeriod(period, nameof(period));
        positiveFlows = new DecimalWindow(period);
        negativeFlows = new DecimalWindow(period);
    }

    /// <inheritdoc />
    public override string Name => "mfi";

    /// <summary>Latest MFI in [0, 100]; NaN during warm-up.</summary>
    public double Value { get; private set; } = double.NaN;

    /// <inheritdoc />
    protected override bool Accept(IndicatorBar bar)
    {
        var tripleTypical = bar.High + bar.Low + bar.Close;
        var previous = previousTripleTypical;
        previousTripleTypical = tripleTypical;
        if (previous is not { } last)
        {
            return false;
        }

        var flow = tripleTypical * bar.Volume;
        positiveFlows.Add(tripleTypical > last ? flow : 0m);
        negativeFlows.Add(tripleTypical < last ? flow : 0m);
        if (!positiveFlows.IsFull)
        {
            return false;
        }

        Value = negativeFlows.Sum == 0m
            ? 100d
            : 100d - (100d / (1d + (double)(positiveFlows.Sum / negativeFlows.Sum)));
        return true;
    }

    /// <inheritdoc />
    protected override void WriteOutputs(IDictionary<string, double> outputs) => AddIfDefined(outputs, "value", Value);
}
