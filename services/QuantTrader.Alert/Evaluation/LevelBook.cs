using System.Globalization;
using QuantTrader.Alert.Rules;

namespace QuantTrader.Alert.Evaluation;

/// <summary>How a <see cref="LevelBook"/> words a firing and what it records as the firing's value.</summary>
/// <param name="Value">The measured value (the price itself for a price book).</param>
/// <param name="Price">The price of the trade or the close of the kline that made it fire.</param>
internal delegate (string Message, decimal? Value) DescribeFiring(PriceEntry entry, decimal value, decimal price);

/// <summary>
/// The rules on one measured value of one market — its price, its percent change over one window, or one output of
/// one indicator on one interval — sorted by threshold in four sets (armed above, armed below, waiting to re-arm on
/// either side) with their extreme thresholds cached. A new value that reaches no threshold costs two decimal
/// comparisons whatever the number of rules; each rule it fires or re-arms costs O(log n).
/// <para>Level rules fire while the value is beyond the threshold (strictly, or inclusive for percent change) and
/// re-arm when it is back; crossing rules need the previous value on the near side (or at the threshold), so the first
/// value a crossing rule sees only decides its side. A rule re-armed inside its cooldown waits in a time-ordered queue
/// and is armed when a value arrives at or after the cooldown's end.</para>
/// </summary>
internal sealed class LevelBook(bool inclusiveTrigger, DescribeFiring describe)
{
    private readonly ThresholdSet _upTrigger = new();   // armed, fires when value > threshold (≥ when inclusive)
    private readonly ThresholdSet _downTrigger = new(); // armed, fires when value < threshold (≤ when inclusive)
    private readonly ThresholdSet _upReset = new();     // re-arms when value ≤ threshold (< when inclusive)
    private readonly ThresholdSet _downReset = new();   // re-arms when value ≥ threshold (> when inclusive)
    private readonly List<PriceEntry> _pending = [];
    private readonly PriorityQueue<PriceEntry, DateTimeOffset> _cooling = new();

    /// <summary>Rules placed here (cooling ones included), to drop the book when it is empty.</summary>
    public int Count { get; private set; }

    /// <summary>The last value seen; crossing rules added later take their side from it.</summary>
    public decimal? LastValue { get; set; }

    public void Add(PriceEntry entry)
    {
        Count++;
        Place(entry);
    }

    public void Remove(PriceEntry entry)
    {
        Count--;
        switch (entry.Slot)
        {
            case Slot.Trigger:
                (entry.Up ? _upTrigger : _downTrigger).Remove(entry);
                break;
            case Slot.Reset:
                (entry.Up ? _upReset : _downReset).Remove(entry);
                break;
            case Slot.Pending:
                _pending.Remove(entry);
                break;
        }

        // A cooling entry stays in the queue and is skipped when it comes out.
        entry.Slot = Slot.None;
    }

    /// <summary>A new value at <paramref name="time"/>; <paramref name="price"/> is what the firing records as its price.</summary>
    public void OnValue(decimal value, decimal price, DateTimeOffset time, EvaluationSink sink, AlertEngine engine)
    {
        while (_cooling.TryPeek(out var cooled, out var until) && until <= time)
        {
            _cooling.Dequeue();
            if (cooled.Slot == Slot.Cooling)
            {
                cooled.Slot = Slot.Trigger;
                (cooled.Up ? _upTrigger : _downTrigger).Add(cooled);
            }
        }

        if (_upTrigger.TakeBelow(value, inclusiveTrigger) is { } up)
        {
            foreach (var entry in up)
            {
                Fire(entry, value, price, time, sink, engine);
            }
        }

        if (_downTrigger.TakeAbove(value, inclusiveTrigger) is { } down)
        {
            foreach (var entry in down)
            {
                Fire(entry, value, price, time, sink, engine);
            }
        }

        if (_upReset.TakeAbove(value, !inclusiveTrigger) is { } upRearm)
        {
            foreach (var entry in upRearm)
            {
                Rearm(entry, time, sink);
            }
        }

        if (_downReset.TakeBelow(value, !inclusiveTrigger) is { } downRearm)
        {
            foreach (var entry in downRearm)
            {
                Rearm(entry, time, sink);
            }
        }

        LastValue = value;
        if (_pending.Count > 0)
        {
            // The first value seen decides which side a new crossing rule starts on; it does not fire on it.
            var pending = _pending.ToArray();
            _pending.Clear();
            foreach (var entry in pending)
            {
                Place(entry);
            }
        }
    }

    private void Place(PriceEntry entry)
    {
        var rule = entry.Rule;
        if (entry.Crossing)
        {
            if (LastValue is not { } last)
            {
                entry.Slot = Slot.Pending;
                _pending.Add(entry);
                return;
            }

            // A crossing needs the previous value on the near side (or at the threshold).
            var nearSide = entry.Up ? last <= entry.Threshold : last >= entry.Threshold;
            if (nearSide && rule.Armed)
            {
                Arm(entry, DateTimeOffset.MinValue);
            }
            else
            {
                ToReset(entry);
            }

            return;
        }

        if (rule.Armed)
        {
            Arm(entry, DateTimeOffset.MinValue);
        }
        else
        {
            ToReset(entry);
        }
    }

    private void Fire(PriceEntry entry, decimal value, decimal price, DateTimeOffset time, EvaluationSink sink, AlertEngine engine)
    {
        var (message, measured) = describe(entry, value, price);
        entry.Slot = Slot.None;
        if (entry.Rule.Repeat == RepeatMode.Every)
        {
            ToReset(entry);
        }

        engine.Fired(entry.Rule, time, price, measured, message, sink);
    }

    private void Rearm(PriceEntry entry, DateTimeOffset time, EvaluationSink sink)
    {
        entry.Rule.Armed = true;
        sink.Rearmed.Add(entry.Rule);
        Arm(entry, time);
    }

    private void Arm(PriceEntry entry, DateTimeOffset now)
    {
        var rule = entry.Rule;
        if (rule.LastFired is { } last && last + rule.Cooldown > now && rule.Cooldown > TimeSpan.Zero)
        {
            entry.Slot = Slot.Cooling;
            entry.CoolingUntil = last + rule.Cooldown;
            _cooling.Enqueue(entry, entry.CoolingUntil);
            return;
        }

        entry.Slot = Slot.Trigger;
        (entry.Up ? _upTrigger : _downTrigger).Add(entry);
    }

    private void ToReset(PriceEntry entry)
    {
        entry.Slot = Slot.Reset;
        (entry.Up ? _upReset : _downReset).Add(entry);
    }

    internal static string Verb(PriceEntry entry) => (entry.Up, entry.Crossing) switch
    {
        (true, false) => "is above",
        (false, false) => "is below",
        (true, true) => "crossed above",
        _ => "crossed below",
    };

    internal static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
