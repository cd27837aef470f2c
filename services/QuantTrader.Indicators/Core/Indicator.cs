namespace QuantTrader.Indicators;

/// <summary>
/// Base class holding what every indicator shares: the forward-only guard and readiness flag.
/// Values are <see cref="double"/> (NaN while undefined) because the reference implementation
/// (Stock.Indicators) smooths in double; recursive smoothing in decimal would drift away from it
/// and decimal has no square root. Windowed sums stay in decimal where that makes them exact.
/// </summary>
public abstract class Indicator : IIndicator
{
    private DateTimeOffset? lastTime;

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public bool IsReady { get; private set; }

    /// <summary>Number of bars accepted so far.</summary>
    public int BarCount { get; private set; }

    /// <inheritdoc />
    public bool Update(IndicatorBar bar)
    {
        ArgumentNullException.ThrowIfNull(bar);
        // A replayed or out-of-order bar would be counted twice in every window; refuse it loudly.
        if (lastTime is { } previous && bar.Time <= previous)
        {
            throw new ArgumentException(
                $"Bar at {bar.Time:O} is not after the previous bar at {previous:O}; indicators are forward-only.",
                nameof(bar));
        }

        lastTime = bar.Time;
        BarCount++;
        IsReady = Accept(bar);
        return IsReady;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double> Outputs
    {
        get
        {
            var outputs = new Dictionary<string, double>(StringComparer.Ordinal);
            WriteOutputs(outputs);
            return outputs;
        }
    }

    /// <summary>Consumes one bar; returns whether every output is now defined.</summary>
    protected abstract bool Accept(IndicatorBar bar);

    /// <summary>Writes the currently defined outputs (skip undefined ones).</summary>
    protected abstract void WriteOutputs(IDictionary<string, double> outputs);

    /// <summary>Adds <paramref name="value"/> under <paramref name="key"/> unless it is still undefined (NaN).</summary>
    protected static void AddIfDefined(IDictionary<string, double> outputs, string key, double value)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        if (!double.IsNaN(value))
        {
            outputs[key] = value;
        }
    }

    /// <summary>Throws when a look-back period is below <paramref name="minimum"/>.</summary>
    protected static void RequirePeriod(int period, string parameterName, int minimum = 1)
    {
        if (period < minimum)
        {
            throw new ArgumentOutOfRangeException(parameterName, period, $"{parameterName} must be at least {minimum}.");
        }
    }
}
