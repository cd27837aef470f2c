namespace QuantTrader.Alert.Rules;

public enum ConditionType
{
    PriceAbove,
    PriceBelow,
    PriceCrossesAbove,
    PriceCrossesBelow,
    PercentChange,
    Indicator,
}

public enum IndicatorOperator
{
    Above,
    Below,
    CrossesAbove,
    CrossesBelow,
}

public enum RepeatMode
{
    Once,
    Every,
}

/// <summary>An indicator on the closed klines of one interval; <paramref name="Output"/> picks one output of a multi-output indicator.</summary>
public sealed record IndicatorSpec(string Name, string Interval, IReadOnlyDictionary<string, string> Params, string Output);

/// <summary>
/// What a rule watches. <paramref name="Value"/> is the price threshold, the percentage for <c>percent_change</c>
/// (positive: a rise of at least that much over <paramref name="Window"/>; negative: a fall), or the indicator threshold.
/// </summary>
public sealed record AlertCondition(
    ConditionType Type,
    decimal Value,
    TimeSpan? Window = null,
    IndicatorSpec? Indicator = null,
    IndicatorOperator? Operator = null);

/// <summary>
/// One user's rule and its evaluation state. <see cref="Armed"/> is false after an <c>every</c> rule fired, until its
/// condition has turned false again (re-arming); it is persisted so a restart neither re-fires nor forgets.
/// </summary>
public sealed class AlertRule
{
    public required Guid Id { get; init; }

    public required Guid UserId { get; init; }

    public required string Exchange { get; init; }

    public required string Symbol { get; init; }

    public required AlertCondition Condition { get; init; }

    public RepeatMode Repeat { get; init; } = RepeatMode.Once;

    public TimeSpan Cooldown { get; init; }

    public string? WebhookUrl { get; init; }

    /// <summary>The user's notification channels a firing goes to, beside <see cref="WebhookUrl"/>.</summary>
    public IReadOnlyList<RuleChannel> Channels { get; init; } = [];

    public bool Armed { get; set; } = true;

    public DateTimeOffset? LastFired { get; set; }

    /// <summary>True once a <c>once</c> rule fired (or the rule was removed): it never fires again.</summary>
    public bool Done { get; set; }

    public bool IsPriceRule => Condition.Type is ConditionType.PriceAbove or ConditionType.PriceBelow
        or ConditionType.PriceCrossesAbove or ConditionType.PriceCrossesBelow;

    public bool CooldownElapsed(DateTimeOffset now) => LastFired is not { } last || now - last >= Cooldown;
}

/// <summary>
/// A rule that fired, at the time of the trade or kline that made it fire; <paramref name="Trigger"/> names that trade
/// or kline (<see cref="Evaluation.Triggers"/>), so the firing's id is the same whoever evaluates it again.
/// </summary>
public sealed record Firing(AlertRule Rule, DateTimeOffset Time, decimal Price, decimal? Value, string Message, string Trigger = "");

/// <summary>A channel a rule names: its id and type (the type picks the sender; the settings are read at send time).</summary>
public sealed record RuleChannel(Guid Id, string Type);
