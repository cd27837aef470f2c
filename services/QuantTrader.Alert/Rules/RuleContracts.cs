using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Indicators;

namespace QuantTrader.Alert.Rules;

public sealed record CreateAlertRequest(
    string? Exchange, string? Symbol, ConditionRequest? Condition, string? WebhookUrl, string? Repeat, int? CooldownSeconds,
    IReadOnlyList<Guid>? Channels = null);

public sealed record ConditionRequest(string? Type, decimal? Value, string? Window, IndicatorRequest? Indicator, string? Operator);

public sealed record IndicatorRequest(string? Name, string? Interval, Dictionary<string, JsonElement>? Params, string? Output);

/// <summary>A condition as stored (jsonb) and returned by the API: the request's shape, normalized.</summary>
public sealed record ConditionView(string Type, decimal Value, string? Window, IndicatorView? Indicator, string? Operator);

public sealed record IndicatorView(string Name, string Interval, Dictionary<string, string> Params, string Output);

public sealed record AlertView(
    Guid Id,
    string Exchange,
    string Symbol,
    ConditionView Condition,
    string? WebhookUrl,
    string Repeat,
    int CooldownSeconds,
    string Status,
    bool Armed,
    DateTimeOffset? LastFiredAt,
    DateTimeOffset CreatedAt,
    string? WebhookSecret = null,
    IReadOnlyList<Guid>? Channels = null);

public sealed record AlertEventView(Guid EventId, Guid AlertId, string Exchange, string Symbol, DateTimeOffset Time, decimal Price, decimal? Value, string Message);

/// <summary>Parses and validates rule requests into the normalized stored shape; every error names its field.</summary>
public static partial class RuleValidation
{
    public const int MaxChannels = 10;

    public static readonly HashSet<string> Exchanges = new(StringComparer.Ordinal) { "binance", "okx" };

    private static readonly Dictionary<string, ConditionType> Types = new(StringComparer.Ordinal)
    {
        ["price_above"] = ConditionType.PriceAbove,
        ["price_below"] = ConditionType.PriceBelow,
        ["price_crosses_above"] = ConditionType.PriceCrossesAbove,
        ["price_crosses_below"] = ConditionType.PriceCrossesBelow,
        ["percent_change"] = ConditionType.PercentChange,
        ["indicator"] = ConditionType.Indicator,
    };

    private static readonly Dictionary<string, IndicatorOperator> Operators = new(StringComparer.Ordinal)
    {
        ["above"] = IndicatorOperator.Above,
        ["below"] = IndicatorOperator.Below,
        ["crosses_above"] = IndicatorOperator.CrossesAbove,
        ["crosses_below"] = IndicatorOperator.CrossesBelow,
    };

    public const int MaxCooldownSeconds = 7 * 86400;
    public static readonly TimeSpan MaxWindow = TimeSpan.FromDays(1);

    /// <summary>Validates the condition; on success <paramref name="view"/> is its normalized form.</summary>
    public static (string Field, string Detail)? Condition(ConditionRequest? c, out ConditionView view)
    {
        view = null!;
        if (c is null)
        {
            return ("condition", "A condition is required.");
        }

        if (c.Type is null || !Types.TryGetValue(c.Type, out var type))
        {
            return ("condition.type", $"Unknown condition type '{c.Type}'; use one of {string.Join(", ", Types.Keys)}.");
        }

        if (c.Value is not { } value)
        {
            return ("condition.value", "A numeric value is required.");
        }

        switch (type)
        {
            case ConditionType.PercentChange:
                if (value == 0)
                {
                    return ("condition.value", "A percentage other than 0 is required: positive for a rise, negative for a fall.");
                }

                if (ParseWindow(c.Window) is not { } window || window > MaxWindow)
                {
                    return ("condition.window", "A window like '30s', '5m', '1h' (at most 1d) is required.");
                }

                view = new ConditionView(c.Type, value, c.Window, null, null);
                return null;
            case ConditionType.Indicator:
                if (c.Indicator is not { } ind || string.IsNullOrWhiteSpace(ind.Name))
                {
                    return ("condition.indicator.name", $"An indicator name is required; known: {string.Join(", ", IndicatorCatalog.Descriptors.Select(d => d.Name))}.");
                }

                var interval = ind.Interval ?? "1m";
                if (!KlineIntervals.IsKnown(interval))
                {
                    return ("condition.indicator.interval", $"Unknown interval '{interval}'; use one of {string.Join(' ', KlineIntervals.All.Keys)}.");
                }

                var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var (key, raw) in ind.Params ?? [])
                {
                    parameters[key] = raw.ValueKind == JsonValueKind.String ? raw.GetString()! : raw.GetRawText();
                }

                IIndicator indicator;
                try
                {
                    indicator = IndicatorCatalog.Create(ind.Name, parameters);
                }
                catch (ArgumentException ex)
                {
                    var field = ex.ParamName is null or "name" ? "condition.indicator.name" : $"condition.indicator.params.{ex.ParamName}";
                    return (field, ex.Message.Split(" (Parameter", 2)[0]);
                }

                var descriptor = IndicatorCatalog.Descriptors.First(d => d.Name == indicator.Name);
                var output = ind.Output ?? descriptor.Outputs[0];
                if (!descriptor.Outputs.Contains(output))
                {
                    return ("condition.indicator.output", $"{descriptor.Name} has outputs {string.Join(", ", descriptor.Outputs)}.");
                }

                if (c.Operator is null || !Operators.ContainsKey(c.Operator))
                {
                    return ("condition.operator", $"Unknown operator '{c.Operator}'; use one of {string.Join(", ", Operators.Keys)}.");
                }

                view = new ConditionView(c.Type, value, null, new IndicatorView(descriptor.Name, interval, parameters, output), c.Operator);
                return null;
            default:
                if (value <= 0)
                {
                    return ("condition.value", "A positive price is required.");
                }

                view = new ConditionView(c.Type, value, null, null, null);
                return null;
        }
    }

    public static AlertCondition ToCondition(ConditionView view)
    {
        var type = Types[view.Type];
        return new AlertCondition(
            type,
            view.Value,
            ParseWindow(view.Window),
            view.Indicator is { } i ? new IndicatorSpec(i.Name, i.Interval, i.Params, i.Output) : null,
            view.Operator is { } op ? Operators[op] : null);
    }

    public static string RepeatName(RepeatMode mode) => mode == RepeatMode.Every ? "every" : "once";

    public static TimeSpan? ParseWindow(string? text)
    {
        if (text is null || WindowPattern().Match(text) is not { Success: true } m)
        {
            return null;
        }

        var n = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        if (n <= 0 || n > 100_000)
        {
            return null;
        }

        return m.Groups[2].Value switch
        {
            "s" => TimeSpan.FromSeconds(n),
            "m" => TimeSpan.FromMinutes(n),
            "h" => TimeSpan.FromHours(n),
            _ => TimeSpan.FromDays(n),
        };
    }

    [GeneratedRegex("^([0-9]+)(s|m|h|d)$")]
    private static partial Regex WindowPattern();

    [GeneratedRegex("^[A-Z0-9]{2,30}$")]
    public static partial Regex SymbolPattern();
}
