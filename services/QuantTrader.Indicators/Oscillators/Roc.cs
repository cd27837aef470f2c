namespace QuantTrader.Indicators;

/// <summary>
/// Rate of change in percent: 100·(close − close[period bars ago]) / close[period bars ago].
/// First value at bar <c>period</c>; 0 if the old close is 0 (never for real prices).
/// </summary>
public sealed class Roc : Indicator
{
    private readonly RingBuffer<decimal> closes;

    /// <summary>Creates a ROC over <paramref name="period"/> bars.</summary>
    public Roc(int period = 14)
    {
        RequirePeriod(period, nameof(period));
        closes = new RingBuffer<decimal>(period + 1);
    }

    /// <inheritdoc />
    public override string Name => "roc";

    /// <summary>Latest ROC in percent; NaN during warm-up.</summary>
    public double Value { get; private set; } = double.NaN;

    /// <inheritdoc />
    protected override bool Accept(IndicatorBar bar)
    {
        closes.Push(bar.Close, out _);
        if (!closes.IsFull)
        {
            return false;
        }

        var old = closes[0];
        Value = old == 0m ? 0d : (double)(100m * (bar.Close - old) / old);
        return true;
    }

    /// <inheritdoc />
    protected override void WriteOutputs(IDictionary<string, double> outputs) => AddIfDefined(outputs, "value", Value);
}
