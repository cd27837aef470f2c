namespace QuantTrader.Indicators;

/// <summary>What the REST layer needs to list an indicator: its name, parameters with defaults, and output keys.</summary>
/// <param name="Name">REST name, e.g. <c>"bb"</c>.</param>
/// <param name="Title">Human-readable name.</param>
/// <param name="Parameters">Accepted parameter names and their defaults (invariant-culture strings).</param>
/// <param name="Outputs">Keys that appear in <see cref="IIndicator.Outputs"/>.</param>
public sealed record IndicatorDescriptor(
    string Name,
    string Title,
    IReadOnlyDictionary<string, string> Parameters,
    IReadOnlyList<string> Outputs);
