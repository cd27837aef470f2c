using System.Globalization;
using System.Text.Json;
using QuantTrader.Indicators;

namespace QuantTrader.Indicators.Tests;

/// <summary>Loads the reference data copied into fixtures/ (see fixtures/SOURCE.md).</summary>
internal static class Fixtures
{
    private static readonly Lazy<IReadOnlyList<IndicatorBar>> DefaultBarsLazy = new(LoadDefaultBars);

    public static string PathOf(params string[] parts) =>
        Path.Combine([AppContext.BaseDirectory, "fixtures", .. parts]);

    /// <summary>The 502 daily bars of Stock.Indicators' default.csv.</summary>
    public static IReadOnlyList<IndicatorBar> DefaultBars => DefaultBarsLazy.Value;

    /// <summary>Column <paramref name="field"/> of <c>&lt;name&gt;.standard.json</c>; null where the reference has no value.</summary>
    public static double?[] ExpectedSeries(string file, string field)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(PathOf("indicators", $"{file}.standard.json")));
        return [.. document.RootElement.EnumerateArray().Select(row =>
            row.GetProperty(field) is { ValueKind: JsonValueKind.Number } value ? value.GetDouble() : (double?)null)];
    }

    public static JsonDocument Statistics() =>
        JsonDocument.Parse(File.ReadAllText(PathOf("statistics", "empyrical_expected.json")));

    private static List<IndicatorBar> LoadDefaultBars()
    {
        var bars = new List<IndicatorBar>();
        foreach (var line in File.ReadLines(PathOf("indicators", "default.csv")).Skip(1))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var f = line.Split(',');
            bars.Add(new IndicatorBar(
                DateTimeOffset.Parse(f[0], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
                decimal.Parse(f[1], CultureInfo.InvariantCulture),
                decimal.Parse(f[2], CultureInfo.InvariantCulture),
                decimal.Parse(f[3], CultureInfo.InvariantCulture),
                decimal.Parse(f[4], CultureInfo.InvariantCulture),
                decimal.Parse(f[5], CultureInfo.InvariantCulture)));
        }

        return bars;
    }
}
