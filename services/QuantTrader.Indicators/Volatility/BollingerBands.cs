namespace QuantTrader.Indicators;

/// <summary>
/// Bollinger Bands: middle = SMA(close, period); upper/lower = middle ± stdDev·σ, where σ is the
/// population standard deviation (divide by N) of the same closes. First value at bar period−1.
/// </summary>
public sealed class BollingerBands : Indicator
{
    private readonly DecimalWindow window;
    private readonly double width;

    /// <summary>Creates Bollinger Bands over <paramref name="period"/> closes, <paramref name="stdDev"/> deviations wide.</summary>
    public BollingerBands(int period = 20, double stdDev = 2d)
    {
        RequirePeriod(period, nameof(period));
        if (!(stdDev > 0d) || double.IsInfinity(stdDev))
        {
            throw new ArgumentOutOfRangeException(nameof(stdDev), stdDev, "stdDev must be a positive number.");
        }

        window = new DecimalWindow(period);
        width = stdDev;
    }

    /// <inheritdoc />
    public override string Name => "bb";

    /// <summary>Upper band; NaN during warm-up.</summary>
    public double Upper { get; private set; } = double.NaN;

    /// <summary>Middle band (SMA); NaN during warm-up.</summary>
    public double Middle { get; private set; } = double.NaN;

    /// <summary>Lower band; NaN during warm-up.</summary>
    public double Lower { get; private set; } = double.NaN;

    /// <inheritdoc />
    protected override bool Accept(IndicatorBar bar)
    {
        window.Add(bar.Close);
        if (!window.IsFull)
        {
            return false;
        }

        Middle = (double)window.Mean;
        var sigma = Math.Sqrt((double)window.PopulationVariance);
        Upper = Middle + (width * sigma);
        Lower = Middle - (width * sigma);
        return true;
    }

    /// <inheritdoc />
    protected override void WriteOutputs(IDictionary<string, double> outputs)
    {
        AddIfDefined(outputs, "upper", Upper);
        AddIfDefined(outputs, "middle", Middle);
        AddIfDefined(outputs, "lower", Lower);
    }
}
