namespace QuantTrader.Indicators;

/// <summary>
/// On-Balance Volume: 0 at the first bar, then + volume when the close rises, − volume when it falls,
/// unchanged when flat. Kept as an exact decimal; <see cref="IIndicator.Outputs"/> carries it as a double.
/// </summary>
public sealed class Obv : Indicator
{
    private decimal? previousClose;

    /// <inheritdoc />
    public override string Name => "obv";

    /// <summary>Cumulative OBV (exact).</summary>
    public decimal Value { get; private set; }

    /// <inheritdoc />
    protected override bool Accept(IndicatorBar bar)
    {
        if (previousClose is { } previous)
        {
            Value += Math.Sign(bar.Close - previous) * bar.Volume;
        }

        previousClose = bar.Close;
        return true;
    }

    /// <inheritdoc />
    protected override void WriteOutputs(IDictionary<string, double> outputs)
    {
        if (IsReady)
        {
            outputs["value"] = (double)Value;
        }
    }
}
