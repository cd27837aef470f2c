using System.Globalization;

namespace QuantTrader.Indicators;

/// <summary>
/// Builds indicators from their REST name and string parameters, e.g.
/// <c>Create("macd", {"fast":"12","slow":"26","signal":"9"})</c>. Names and parameter keys are
/// case-insensitive; missing parameters take the defaults listed in <see cref="Descriptors"/>.
/// </summary>
public static class IndicatorCatalog
{
    private static readonly string[] SingleValue = ["value"];

    private static readonly Dictionary<string, (IndicatorDescriptor Descriptor, Func<ParameterReader, IIndicator> Build)> Entries =
        new Dictionary<string, (IndicatorDescriptor, Func<ParameterReader, IIndicator>)>(StringComparer.OrdinalIgnoreCase)
        {
            ["sma"] = Entry("sma", "Simple moving average", Period(20), SingleValue, p => new Sma(p.Int("period"))),
            ["ema"] = Entry("ema", "Exponential moving average", Period(20), SingleValue, p => new Ema(p.Int("period"))),
            ["wma"] = Entry("wma", "Weighted moving average", Period(14), SingleValue, p => new Wma(p.Int("period"))),
            ["dema"] = Entry("dema", "Double exponential moving average", Period(14), SingleValue, p => new Dema(p.Int("period"))),
            ["tema"] = Entry("tema", "Triple exponential moving average", Period(20), SingleValue, p => new Tema(p.Int("period"))),
            ["smma"] = Entry("smma", "Smoothed moving average", Period(20), SingleValue, p => new Smma(p.Int("period"))),
            ["rsi"] = Entry("rsi", "Relative strength index", Period(14), SingleValue, p => new Rsi(p.Int("period"))),
            ["macd"] = Entry(
                "macd",
                "Moving average convergence/divergence",
                new() { ["fast"] = "12", ["slow"] = "26", ["signal"] = "9" },
                ["macd", "signal", "histogram"],
                p => new Macd(p.Int("fast"), p.Int("slow"), p.Int("signal"))),
            ["bb"] = Entry(
                "bb",
                "Bollinger Bands",
                new() { ["period"] = "20", ["stdDev"] = "2" },
                ["upper", "middle", "lower"],
                p => new BollingerBands(p.Int("period"), p.Double("stdDev"))),
            ["atr"] = Entry("atr", "Average true range", Period(14), SingleValue, p => new Atr(p.Int("period"))),
            ["stoch"] = Entry(
                "stoch",
                "Stochastic oscillator",
                new() { ["kPeriod"] = "14", ["dPeriod"] = "3", ["smooth"] = "3" },
                ["k", "d"],
                p => new Stochastic(p.Int("kPeriod"), p.Int("dPeriod"), p.Int("smooth"))),
            ["adx"] = Entry("adx", "Average directional index", Period(14), ["value", "pdi", "mdi"], p => new Adx(p.Int("period"))),
            ["obv"] = Entry("obv", "On-balance volume", [], SingleValue, _ => new Obv()),
            ["cci"] = Entry("cci", "Commodity channel index", Period(20), SingleValue, p => new Cci(p.Int("period"))),
            ["willr"] = Entry("willr", "Williams %R", Period(14), SingleValue, p => new WilliamsR(p.Int("period"))),
            ["mfi"] = Entry("mfi", "Money flow index", Period(14), SingleValue, p => new Mfi(p.Int("period"))),
            ["stdev"] = Entry("stdev", "Standard deviation", Period(14), SingleValue, p => new StandardDeviation(p.Int("period"))),
            ["roc"] = Entry("roc", "Rate of change", Period(14), SingleValue, p => new Roc(p.Int("period"))),
            ["vwap"] = Entry("vwap", "Volume-weighted average price", [], SingleValue, _ => new Vwap()),
        };

    /// <summary>Every indicator the catalog can build, in REST-name order.</summary>
    public static IReadOnlyList<IndicatorDescriptor> Descriptors { get; } =
        [.. Entries.Values.Select(e => e.Descriptor).OrderBy(d => d.Name, StringComparer.Ordinal)];

    /// <summary>
    /// The largest integer parameter (a period or length) any indicator takes: its state grows with it, so an alert rule,
    /// a query or a strategy with a period of two billion would allocate for it in a shared service; and twenty periods
    /// of the indicator API's warm-up stay 20,000 bars, so no bar count or time span computed from it can overflow.
    /// </summary>
    public const int MaxIntegerParameter = 1000;

    /// <summary>
    /// Creates the indicator called <paramref name="name"/>. Throws <see cref="ArgumentException"/> whose
    /// <see cref="ArgumentException.ParamName"/> is <c>"name"</c> for an unknown indicator, or the offending
    /// parameter key for an unknown, unparsable or out-of-range parameter.
    /// </summary>
    public static IIndicator Create(string name, IReadOnlyDictionary<string, string>? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!Entries.TryGetValue(name, out var entry))
        {
            throw new ArgumentException(
                $"Unknown indicator '{name}'. Known: {string.Join(", ", Entries.Keys.Order(StringComparer.Ordinal))}.",
                nameof(name));
        }

        var reader = new ParameterReader(entry.Descriptor, parameters ?? new Dictionary<string, string>());
        try
        {
            return entry.Build(reader);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            // Constructors name their own parameters; translate to the REST key the caller used.
            var key = reader.KeyFor(ex.ParamName);
            throw new ArgumentException($"Invalid value for parameter '{key}' of {entry.Descriptor.Name}: {ex.Message}", key, ex);
        }
    }

    private static Dictionary<string, string> Period(int value) =>
        new() { ["period"] = value.ToString(CultureInfo.InvariantCulture) };

    private static (IndicatorDescriptor, Func<ParameterReader, IIndicator>) Entry(
        string name,
        string title,
        Dictionary<string, string> parameters,
        string[] outputs,
        Func<ParameterReader, IIndicator> build) =>
        (new IndicatorDescriptor(name, title, parameters, outputs), build);

    /// <summary>Reads parameters, falling back to defaults, and rejects keys the indicator does not take.</summary>
    private sealed class ParameterReader
    {
        private readonly IndicatorDescriptor descriptor;
        private readonly Dictionary<string, string> supplied = new(StringComparer.OrdinalIgnoreCase);

        public ParameterReader(IndicatorDescriptor descriptor, IReadOnlyDictionary<string, string> parameters)
        {
            this.descriptor = descriptor;
            foreach (var (key, value) in parameters)
            {
                if (!descriptor.Parameters.Keys.Any(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase)))
                {
                    var accepted = descriptor.Parameters.Count == 0 ? "none" : string.Join(", ", descriptor.Parameters.Keys);
                    throw new ArgumentException(
                        $"Indicator {descriptor.Name} has no parameter '{key}' (accepted: {accepted}).",
                        key);
                }

                supplied[key] = value;
            }
        }

        public int Int(string key)
        {
            var text = Raw(key);
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                throw new ArgumentException($"Parameter '{key}' of {descriptor.Name} must be an integer, got '{text}'.", key);
            }

            return value <= MaxIntegerParameter
                ? value
                : throw new ArgumentException($"Parameter '{key}' of {descriptor.Name} must be at most {MaxIntegerParameter}, got {value}.", key);
        }

        public double Double(string key)
        {
            var text = Raw(key);
            return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
                ? value
                : throw new ArgumentException($"Parameter '{key}' of {descriptor.Name} must be a number, got '{text}'.", key);
        }

        /// <summary>Maps a constructor parameter name back to the descriptor's spelling of the key.</summary>
        public string KeyFor(string? constructorParameter) =>
            descriptor.Parameters.Keys.FirstOrDefault(k => string.Equals(k, constructorParameter, StringComparison.OrdinalIgnoreCase))
            ?? constructorParameter
            ?? "parameters";

        private string Raw(string key) => supplied.TryGetValue(key, out var value) ? value : descriptor.Parameters[key];
    }
}
