namespace QuantTrader.Indicators;

/// <summary>
/// Average True Range: TR from the second bar (max(H−L, |H−prevC|, |L−prevC|)), Wilder-smoothed and
/// seeded with the simple mean of the first <c>period</c> TRs, so the first value is at bar <c>period</c>.
/// </summary>
public sealed class Atr : Indicator
{
    private readonly WilderSmoother smoother;
    private decimal? previousClose;

    /// <summary>Creates an ATR over <paramref name="period"/> bars.</summary>
    public Atr(int period = 14)
    {
        RequirePeriod(period, nameof(period));
        smoother = new WilderSmoother(period);
    }

    /// <inheritdoc />
    public override string Name => "atr";

    /// <summary>Latest ATR (price units); NaN during warm-up.</summary>
    public double Value => smoother.Value;

    /// <inheritdoc />
    protected override bool Accept(IndicatorBar bar)
    {
        var previous = previousClose;
        previousClose = bar.Close;
        return previous is { } close && smoother.Add((double)TrueRange.Of(bar, close));
    }

    /// <inheritdoc />
    protected override void WriteOutputs(IDictionary<string, double> outputs) => AddIfDefined(outputs, "value", Value);
}
