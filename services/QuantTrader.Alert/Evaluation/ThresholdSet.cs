using QuantTrader.Alert.Rules;

namespace QuantTrader.Alert.Evaluation;

/// <summary>
/// A rule placed in a <see cref="LevelBook"/>: its threshold on the book's value (price, percent change or indicator
/// output), its direction, a tie-breaker and where it sits.
/// </summary>
internal sealed class PriceEntry(AlertRule rule, long seq)
{
    public AlertRule Rule { get; } = rule;

    public decimal Threshold { get; } = rule.Condition.Value;

    public long Seq { get; } = seq;

    /// <summary>
    /// True when the rule fires on the value going up: price_above / price_crosses_above, indicator above /
    /// crosses_above, and a percent_change with a positive threshold (a rise).
    /// </summary>
    public bool Up { get; } = rule.Condition.Type switch
    {
        ConditionType.PriceAbove or ConditionType.PriceCrossesAbove => true,
        ConditionType.PercentChange => rule.Condition.Value >= 0,
        ConditionType.Indicator => rule.Condition.Operator is IndicatorOperator.Above or IndicatorOperator.CrossesAbove,
        _ => false,
    };

    public bool Crossing { get; } = rule.Condition.Type is ConditionType.PriceCrossesAbove or ConditionType.PriceCrossesBelow
        || (rule.Condition.Type == ConditionType.Indicator && rule.Condition.Operator is IndicatorOperator.CrossesAbove or IndicatorOperator.CrossesBelow);

    public Slot Slot { get; set; }

    public DateTimeOffset CoolingUntil { get; set; }
}

internal enum Slot
{
    None,

    /// <summary>Armed: fires when the price passes the threshold.</summary>
    Trigger,

    /// <summary>Fired (every) or a crossing rule on the far side: re-arms when the condition is false again.</summary>
    Reset,

    /// <summary>A crossing rule waiting for the first price of its market, which decides its side.</summary>
    Pending,

    /// <summary>Re-armed inside its cooldown: armed when the cooldown ends.</summary>
    Cooling,
}

/// <summary>
/// Rules sorted by threshold with the extreme values cached, so the common case — a trade that reaches no
/// threshold — costs two decimal comparisons, and a trade that does costs O(log n) per rule it reaches.
/// </summary>
internal sealed class ThresholdSet
{
    private static readonly Comparer<PriceEntry> ByThreshold = Comparer<PriceEntry>.Create((a, b) =>
    {
        var c = a.Threshold.CompareTo(b.Threshold);
        return c != 0 ? c : a.Seq.CompareTo(b.Seq);
    });

    private readonly SortedSet<PriceEntry> _set = new(ByThreshold);

    public int Count => _set.Count;

    /// <summary>Lowest threshold, or +∞ (decimal.MaxValue) when empty.</summary>
    public decimal Min { get; private set; } = decimal.MaxValue;

    /// <summary>Highest threshold, or −∞ (decimal.MinValue) when empty.</summary>
    public decimal Max { get; private set; } = decimal.MinValue;

    public void Add(PriceEntry entry)
    {
        _set.Add(entry);
        Min = Math.Min(Min, entry.Threshold);
        Max = Math.Max(Max, entry.Threshold);
    }

    public bool Remove(PriceEntry entry)
    {
        if (!_set.Remove(entry))
        {
            return false;
        }

        Refresh();
        return true;
    }

    /// <summary>Removes and returns the entries with threshold &lt; <paramref name="price"/> (or ≤ when <paramref name="inclusive"/>), lowest first.</summary>
    public List<PriceEntry>? TakeBelow(decimal price, bool inclusive)
    {
        if (Min > price || (Min == price && !inclusive))
        {
            return null;
        }

        var taken = new List<PriceEntry>();
        while (_set.Count > 0)
        {
            var min = _set.Min!;
            if (min.Threshold > price || (min.Threshold == price && !inclusive))
            {
                break;
            }

            _set.Remove(min);
            taken.Add(min);
        }

        Refresh();
        return taken;
    }

    /// <summary>Removes and returns the entries with threshold &gt; <paramref name="price"/> (or ≥ when <paramref name="inclusive"/>), highest first.</summary>
    public List<PriceEntry>? TakeAbove(decimal price, bool inclusive)
    {
        if (Max < price || (Max == price && !inclusive))
        {
            return null;
        }

        var taken = new List<PriceEntry>();
        while (_set.Count > 0)
        {
            var max = _set.Max!;
            if (max.Threshold < price || (max.Threshold == price && !inclusive))
            {
                break;
            }

            _set.Remove(max);
            taken.Add(max);
        }

        Refresh();
        return taken;
    }

    private void Refresh()
    {
        Min = _set.Count == 0 ? decimal.MaxValue : _set.Min!.Threshold;
        Max = _set.Count == 0 ? decimal.MinValue : _set.Max!.Threshold;
    }
}
