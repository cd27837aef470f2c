using System.Globalization;
using QuantTrader.Alert.Rules;
using QuantTrader.Indicators;
using KlineRecord = QuantTrader.Contracts.MarketData.Kline;

namespace QuantTrader.Alert.Evaluation;

/// <summary>What one evaluation produced: rules that fired, and <c>every</c> rules that re-armed (to persist).</summary>
public sealed class EvaluationSink
{
    public List<Firing> Firings { get; } = [];

    public List<AlertRule> Rearmed { get; } = [];

    public bool IsEmpty => Firings.Count == 0 && Rearmed.Count == 0;

    public void Clear()
    {
        Firings.Clear();
        Rearmed.Clear();
    }
}

/// <summary>
/// Evaluates every user's alert rules (docs/alerts.md). Pure and deterministic: times are the trade's and kline's
/// exchange times, never the wall clock. Not thread-safe: the host serializes calls.
/// <para>Semantics: <c>above</c>/<c>below</c> are strict (price &gt; value, price &lt; value). A level rule fires on the
/// first evaluation where its condition holds; a crossing rule only when the previous price (indicator value) was on
/// the other side or equal: <c>crosses_above</c> = previous ≤ value &lt; current. After firing, <c>once</c> is done;
/// <c>every</c> re-arms when its condition is false again, and fires again no earlier than its cooldown after the
/// last firing (a crossing during the cooldown fires when the cooldown ends if the price is still on the far side).</para>
/// <para>Scale: price rules sit in four threshold-sorted sets per market (armed above, armed below, waiting to re-arm
/// on either side), so a trade costs O(1) when it reaches no threshold and O(log n) per rule it fires or re-arms.</para>
/// </summary>
public sealed class AlertEngine
{
    private readonly Dictionary<(string Exchange, string Symbol), SymbolBook> _books = [];
    private readonly Dictionary<(string Exchange, string Symbol, string Interval), List<IndicatorRuleState>> _indicatorRules = [];
    private readonly Dictionary<Guid, object> _index = [];
    private long _seq;

    public int Count => _index.Count;

    public bool Contains(Guid id) => _index.ContainsKey(id);

    /// <summary>
    /// Adds a rule. An indicator rule is warmed up with <paramref name="warmup"/> (closed klines, oldest first) without
    /// firing. Replaces nothing: adding an id twice throws.
    /// </summary>
    public void Add(AlertRule rule, IEnumerable<IndicatorBar>? warmup = null)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (_index.ContainsKey(rule.Id))
        {
            throw new ArgumentException($"Rule {rule.Id} is already loaded.", nameof(rule));
        }

        if (rule.Done)
        {
            return;
        }

        switch (rule.Condition.Type)
        {
            case ConditionType.Indicator:
                var spec = rule.Condition.Indicator ?? throw new ArgumentException("Indicator rule without indicator.", nameof(rule));
                var state = new IndicatorRuleState(rule, IndicatorCatalog.Create(spec.Name, spec.Params));
                foreach (var bar in warmup ?? [])
                {
                    state.Feed(bar);
                }

                var key = (rule.Exchange, rule.Symbol, spec.Interval);
                if (!_indicatorRules.TryGetValue(key, out var list))
                {
                    _indicatorRules[key] = list = [];
                }

                list.Add(state);
                _index[rule.Id] = state;
                break;
            case ConditionType.PercentChange:
                var percent = new PercentRuleState(rule);
                Book(rule.Exchange, rule.Symbol).AddPercent(percent);
                _index[rule.Id] = percent;
                break;
            default:
                var entry = new PriceEntry(rule, ++_seq);
                Book(rule.Exchange, rule.Symbol).Place(entry);
                _index[rule.Id] = entry;
                break;
        }
    }

    /// <summary>Removes a rule; false when it is not loaded.</summary>
    public bool Remove(Guid id)
    {
        if (!_index.Remove(id, out var state))
        {
            return false;
        }

        switch (state)
        {
            case PriceEntry entry:
                Book(entry.Rule.Exchange, entry.Rule.Symbol).Remove(entry);
                entry.Rule.Done = true;
                break;
            case PercentRuleState percent:
                Book(percent.Rule.Exchange, percent.Rule.Symbol).RemovePercent(percent);
                break;
            case IndicatorRuleState indicator:
                var spec = indicator.Rule.Condition.Indicator!;
                _indicatorRules[(indicator.Rule.Exchange, indicator.Rule.Symbol, spec.Interval)].Remove(indicator);
                break;
        }

        return true;
    }

    /// <summary>Evaluates the price and percent-change rules of the trade's market.</summary>
    public void OnTrade(string exchange, string symbol, decimal price, DateTimeOffset time, EvaluationSink sink)
    {
        if (_books.TryGetValue((exchange, symbol), out var book))
        {
            book.OnTrade(price, time, sink, this);
        }
    }

    /// <summary>Evaluates the indicator rules of a closed kline's market and interval.</summary>
    public void OnClosedKline(KlineRecord kline, EvaluationSink sink)
    {
        if (!kline.Closed || !_indicatorRules.TryGetValue((kline.Exchange, kline.Symbol, kline.Interval), out var rules) || rules.Count == 0)
        {
            return;
        }

        var bar = new IndicatorBar(kline.OpenTime, kline.Open, kline.High, kline.Low, kline.Close, kline.Volume);
        foreach (var state in rules.ToArray())
        {
            if (!state.Feed(bar))
            {
                continue;
            }

            var rule = state.Rule;
            var v = (double)rule.Condition.Value;
            var value = state.Current!.Value;
            var op = rule.Condition.Operator!.Value;
            bool fire;
            switch (op)
            {
                case IndicatorOperator.Above or IndicatorOperator.Below:
                    var holds = op == IndicatorOperator.Above ? value > v : value < v;
                    if (!holds && !rule.Armed)
                    {
                        rule.Armed = true;
                        sink.Rearmed.Add(rule);
                    }

                    fire = holds && rule.Armed && rule.CooldownElapsed(kline.CloseTime);
                    break;
                default:
                    fire = state.Previous is { } prev
                        && (op == IndicatorOperator.CrossesAbove ? prev <= v && value > v : prev >= v && value < v)
                        && rule.CooldownElapsed(kline.CloseTime);
                    break;
            }

            if (fire)
            {
                var spec = rule.Condition.Indicator!;
                var measured = (decimal)value;
                var message = string.Create(CultureInfo.InvariantCulture,
                    $"{spec.Name} {spec.Output} of {rule.Symbol} {spec.Interval} on {rule.Exchange} {Describe(op)} {rule.Condition.Value}: {value:G10}");
                Fired(rule, kline.CloseTime, kline.Close, measured, message, sink);
            }
        }
    }

    internal void Fired(AlertRule rule, DateTimeOffset time, decimal price, decimal? value, string message, EvaluationSink sink)
    {
        rule.LastFired = time;
        rule.Armed = false;
        if (rule.Repeat == RepeatMode.Once)
        {
            Remove(rule.Id);
            rule.Done = true;
        }

        sink.Firings.Add(new Firing(rule, time, price, value, message));
    }

    private static string Describe(IndicatorOperator op) => op switch
    {
        IndicatorOperator.Above => "is above",
        IndicatorOperator.Below => "is below",
        IndicatorOperator.CrossesAbove => "crossed above",
        _ => "crossed below",
    };

    private SymbolBook Book(string exchange, string symbol)
    {
        if (!_books.TryGetValue((exchange, symbol), out var book))
        {
            _books[(exchange, symbol)] = book = new SymbolBook();
        }

        return book;
    }

    private sealed class IndicatorRuleState(AlertRule rule, IIndicator indicator)
    {
        private DateTimeOffset? _lastBar;

        public AlertRule Rule { get; } = rule;

        public double? Current { get; private set; }

        public double? Previous { get; private set; }

        /// <summary>Feeds a bar once (a replayed or older kline is ignored); true when the chosen output is defined.</summary>
        public bool Feed(IndicatorBar bar)
        {
            if (_lastBar is { } last && bar.Time <= last)
            {
                return false;
            }

            _lastBar = bar.Time;
            indicator.Update(bar);
            Previous = Current;
            Current = indicator.Outputs.TryGetValue(Rule.Condition.Indicator!.Output, out var v) ? v : null;
            return Current is not null;
        }
    }
}
