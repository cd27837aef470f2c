namespace QuantTrader.Indicators;

/// <summary>Simple moving average of the close: Σclose / period over the last <c>period</c> bars. First value at bar period−1.</summary>
public sealed class Sma : Indicator
{
    private readonly DecimalWindow window;

    /// <summary>Creates an SMA over <paramref name="period"/> closes.</summary>
    public Sma(int period = 20)
    {
        RequirePeriod(period, nameof(period));
        window = new DecimalWindow(period);
    }

    /// <inheritdoc />
    public override string Name => "sma";

    /// <summary>Latest SMA; NaN during warm-up.</summary>
    public double Value { get; private set; } = double.NaN;

    /// <inheritdoc />
    protected override bool Accept(IndicatorBar bar)
    {
        window.Add(bar.Close);
        if (!window.IsFull)
        {
            return false;
        }

        Value = (double)window.Mean;
        return true;
    }

    /// <inheritdoc />
    protected override void WriteOutputs(IDictionary<string, double> outputs) => AddIfDefined(outputs, "value", Value);
}
