using System.Globalization;
using QuantTrader.Alert.Rules;

namespace QuantTrader.Alert.Evaluation;

/// <summary>The price and percent-change rules of one market, with the market's last price and recent prices.</summary>
internal sealed class SymbolBook
{
    private readonly ThresholdSet _upTrigger = new();   // armed, fires when price > threshold
    private readonly ThresholdSet _downTrigger = new(); // armed, fires when price < threshold
    private readonly ThresholdSet _upReset = new();     // re-arms when price ≤ threshold
    private readonly ThresholdSet _downReset = new();   // re-arms when price ≥ threshold
    private readonly List<PriceEntry> _pending = [];
    private readonly PriorityQueue<PriceEntry, DateTimeOffset> _cooling = new();
    private readonly List<PercentRuleState> _percent = [];
    private readonly PriceWindow _window = new();

    public decimal? LastPrice { get; private set; }

    public void Place(PriceEntry entry)
    {
        var rule = entry.Rule;
        if (entry.Crossing)
        {
            if (LastPrice is not { } last)
            {
                entry.Slot = Slot.Pending;
                _pending.Add(entry);
                return;
            }

            // A crossing needs the previous price on the near side (or at the threshold).
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

    public void Remove(PriceEntry entry)
    {
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

    public void AddPercent(PercentRuleState rule)
    {
        _percent.Add(rule);
        _window.Keep = _percent.Max(p => p.Window);
    }

    public void RemovePercent(PercentRuleState rule)
    {
        _percent.Remove(rule);
        _window.Keep = _percent.Count == 0 ? TimeSpan.Zero : _percent.Max(p => p.Window);
    }

    public void OnTrade(decimal price, DateTimeOffset time, EvaluationSink sink, AlertEngine engine)
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

        if (_upTrigger.TakeBelow(price, inclusive: false) is { } up)
        {
            foreach (var entry in up)
            {
                Fire(entry, price, time, sink, engine);
            }
        }

        if (_downTrigger.TakeAbove(price, inclusive: false) is { } down)
        {
            foreach (var entry in down)
            {
                Fire(entry, price, time, sink, engine);
            }
        }

        if (_upReset.TakeAbove(price, inclusive: true) is { } upRearm)
        {
            foreach (var entry in upRearm)
            {
                Rearm(entry, time, sink);
            }
        }

        if (_downReset.TakeBelow(price, inclusive: true) is { } downRearm)
        {
            foreach (var entry in downRearm)
            {
                Rearm(entry, time, sink);
            }
        }

        LastPrice = price;
        if (_pending.Count > 0)
        {
            // The first price seen decides which side a new crossing rule starts on; it does not fire on it.
            var pending = _pending.ToArray();
            _pending.Clear();
            foreach (var entry in pending)
            {
                Place(entry);
            }
        }

        if (_percent.Count > 0)
        {
            _window.Add(time, price);
            foreach (var rule in _percent.ToArray())
            {
                rule.Evaluate(_window, price, time, sink, engine);
            }
        }
    }

    private void Fire(PriceEntry entry, decimal price, DateTimeOffset time, EvaluationSink sink, AlertEngine engine)
    {
        var rule = entry.Rule;
        var verb = (entry.Up, entry.Crossing) switch
        {
            (true, false) => "is above",
            (false, false) => "is below",
            (true, true) => "crossed above",
            _ => "crossed below",
        };
        var message = string.Create(CultureInfo.InvariantCulture, $"{rule.Symbol} on {rule.Exchange} {verb} {entry.Threshold}: traded at {price}");
        entry.Slot = Slot.None;
        if (rule.Repeat == RepeatMode.Every)
        {
            ToReset(entry);
        }

        engine.Fired(rule, time, price, null, message, sink);
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
}

/// <summary>Recent (time, price) samples of one market, enough to look back over the longest percent-change window.</summary>
internal sealed class PriceWindow
{
    private readonly List<(DateTimeOffset Time, decimal Price)> _samples = [];
    private int _head;

    public TimeSpan Keep { get; set; }

    public void Add(DateTimeOffset time, decimal price)
    {
        _samples.Add((time, price));
        // Keep one sample at or before the start of the longest window: it is that window's reference price.
        var horizon = time - Keep;
        while (_samples.Count - _head >= 2 && _samples[_head + 1].Time <= horizon)
        {
            _head++;
        }

        if (_head > 1024 && _head > _samples.Count / 2)
        {
            _samples.RemoveRange(0, _head);
            _head = 0;
        }
    }

    /// <summary>The last price at or before <paramref name="at"/>; null when the samples do not reach back that far.</summary>
    public decimal? PriceAt(DateTimeOffset at)
    {
        int lo = _head, hi = _samples.Count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_samples[mid].Time <= at)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found < 0 ? null : _samples[found].Price;
    }
}

/// <summary>
/// A percent-change rule: change = (price − price one window ago) / price one window ago × 100. A positive value fires
/// on a rise of at least that much, a negative one on a fall of at least that much. Level semantics with re-arming.
/// </summary>
internal sealed class PercentRuleState(AlertRule rule)
{
    public AlertRule Rule { get; } = rule;

    public TimeSpan Window { get; } = rule.Condition.Window ?? throw new ArgumentException("percent_change needs a window");

    public void Evaluate(PriceWindow window, decimal price, DateTimeOffset time, EvaluationSink sink, AlertEngine engine)
    {
        if (window.PriceAt(time - Window) is not { } reference || reference <= 0)
        {
            return;
        }

        var change = (price - reference) / reference * 100m;
        var threshold = Rule.Condition.Value;
        var holds = threshold >= 0 ? change >= threshold : change <= threshold;
        if (!holds)
        {
            if (!Rule.Armed)
            {
                Rule.Armed = true;
                sink.Rearmed.Add(Rule);
            }

            return;
        }

        if (Rule.Armed && Rule.CooldownElapsed(time))
        {
            var message = string.Create(CultureInfo.InvariantCulture,
                $"{Rule.Symbol} on {Rule.Exchange} changed {Math.Round(change, 4):+0.####;-0.####;0}% over {Window} (threshold {threshold}%): traded at {price}");
            engine.Fired(Rule, time, price, Math.Round(change, 8), message, sink);
        }
    }
}
