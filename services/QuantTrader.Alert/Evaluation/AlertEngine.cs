using QuantTrader.Alert.Rules;
using QuantTrader.Indicators;
using KlineRecord = QuantTrader.Contracts.MarketData.Kline;

namespace QuantTrader.Alert.Evaluation;

/// <summary>What one evaluation produced: rules that fired, and <c>every</c> rules that re-armed (to persist).</summary>
public sealed class EvaluationSink
{
    public List<Firing> Firings { get; } = [];

    /// <summary>
    /// What is being evaluated — <see cref="Triggers.Trade"/> or <see cref="Triggers.Kline"/> — set by the caller before
    /// each evaluation and carried by every firing it produces, so a firing's id can be derived from it.
    /// </summary>
    public string Trigger { get; set; } = "";

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
/// last firing (a crossing during the cooldown fires when the cooldown ends if the value is still on the far side).</para>
/// <para>Scale: every rule sits in a <see cref="LevelBook"/> — threshold-sorted sets on one measured value — so an
/// update costs O(1) when it reaches no threshold and O(log n) per rule it fires or re-arms, whatever the number of
/// rules. Price rules: one book per market. Percent-change rules: one book per market and window (the change is
/// computed once per window). Indicator rules: one shared indicator per market, interval and indicator (name and
/// parameters), updated once per closed kline, with one book per output; a kline touches only the groups of its own
/// market and interval.</para>
/// </summary>
public sealed class AlertEngine
{
    private readonly Dictionary<(string Exchange, string Symbol), MarketBook> _markets = [];
    private readonly Dictionary<(string Exchange, string Symbol, string Interval), Dictionary<string, IndicatorGroup>> _indicators = [];
    private readonly Dictionary<Guid, Placement> _index = [];
    private Dictionary<(string Exchange, string Symbol), MarketMemory> _recalledMarkets = [];
    private Dictionary<(string Exchange, string Symbol, string Interval), DateTimeOffset> _recalledSeries = [];
    private long _seq;

    public int Count => _index.Count;

    public bool Contains(Guid id) => _index.ContainsKey(id);

    /// <summary>Past prices held for percent-change rules, over all markets and windows (bounded per market and window).</summary>
    public int RememberedPrices => _markets.Values.Sum(m => m.RememberedPrices);

    /// <summary>What this engine knows of its markets that a replay from its checkpoint could not rebuild (<see cref="EngineMemory"/>).</summary>
    public EngineMemory Remember() => new(
        [.. _markets.Values.Select(m => m.Remember())],
        [.. _indicators.SelectMany(i => i.Value.Values.Select(g => g.LastBar).OfType<DateTimeOffset>().Order().Take(1)
            .Select(last => new SeriesMemory(i.Key.Exchange, i.Key.Symbol, i.Key.Interval, last)))]);

    /// <summary>
    /// A previous owner's memory, for the rules added next: their markets' books start from it. Call before loading
    /// the rules and <see cref="ForgetRecalled"/> before evaluating live data (from then on the memory is stale).
    /// </summary>
    public void Recall(EngineMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        _recalledMarkets = memory.Markets.ToDictionary(m => (m.Exchange, m.Symbol));
        _recalledSeries = memory.Series.ToDictionary(s => (s.Exchange, s.Symbol, s.Interval), s => s.LastBar);
    }

    public void ForgetRecalled()
    {
        _recalledMarkets = [];
        _recalledSeries = [];
    }

    /// <summary>The last closed kline the previous owner fed the rule's indicator series: warm up to there, replay the rest.</summary>
    public DateTimeOffset? RecalledLastBar(AlertRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return rule.Condition.Indicator is { } spec && _recalledSeries.TryGetValue((rule.Exchange, rule.Symbol, spec.Interval), out var last) ? last : null;
    }

    /// <summary>
    /// True when adding <paramref name="rule"/> would create a new indicator group, which then needs warm-up bars;
    /// a rule joining an existing group shares its live indicator (fed with every closed kline since).
    /// </summary>
    public bool NeedsWarmup(AlertRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return rule.Condition.Indicator is { } spec
            && !(_indicators.TryGetValue((rule.Exchange, rule.Symbol, spec.Interval), out var groups) && groups.ContainsKey(GroupKey(spec)));
    }

    /// <summary>
    /// Adds a rule. A rule that starts a new indicator group warms the group's indicator up with
    /// <paramref name="warmup"/> (closed klines, oldest first) without firing; otherwise the warm-up is not needed and
    /// ignored. Replaces nothing: adding an id twice throws.
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

        var entry = new PriceEntry(rule, ++_seq);
        LevelBook book;
        switch (rule.Condition.Type)
        {
            case ConditionType.Indicator:
                var spec = rule.Condition.Indicator ?? throw new ArgumentException("Indicator rule without indicator.", nameof(rule));
                var market = (rule.Exchange, rule.Symbol, spec.Interval);
                if (!_indicators.TryGetValue(market, out var groups))
                {
                    _indicators[market] = groups = new Dictionary<string, IndicatorGroup>(StringComparer.Ordinal);
                }

                var key = GroupKey(spec);
                if (!groups.TryGetValue(key, out var group))
                {
                    // Created first: an unknown indicator or bad parameter throws before anything is registered.
                    group = new IndicatorGroup(rule.Exchange, rule.Symbol, spec, IndicatorCatalog.Create(spec.Name, spec.Params));
                    foreach (var bar in warmup ?? [])
                    {
                        group.Feed(bar);
                    }

                    groups[key] = group;
                }

                book = group.Book(spec.Output);
                break;
            case ConditionType.PercentChange:
                var window = rule.Condition.Window ?? throw new ArgumentException("percent_change needs a window", nameof(rule));
                book = Market(rule.Exchange, rule.Symbol).Percent(window);
                break;
            default:
                book = Market(rule.Exchange, rule.Symbol).Price;
                break;
        }

        book.Add(entry);
        _index[rule.Id] = new Placement(entry, book);
    }

    /// <summary>Removes a rule; false when it is not loaded.</summary>
    public bool Remove(Guid id)
    {
        if (!_index.Remove(id, out var placement))
        {
            return false;
        }

        var (entry, book) = placement;
        var rule = entry.Rule;
        book.Remove(entry);
        rule.Done = true;
        if (book.Count > 0)
        {
            return true;
        }

        // Empty books, groups and markets are dropped, so a removed rule leaves no work behind.
        switch (rule.Condition.Type)
        {
            case ConditionType.Indicator:
                var spec = rule.Condition.Indicator!;
                var market = (rule.Exchange, rule.Symbol, spec.Interval);
                var groups = _indicators[market];
                var key = GroupKey(spec);
                if (groups[key].IsEmpty)
                {
                    groups.Remove(key);
                    if (groups.Count == 0)
                    {
                        _indicators.Remove(market);
                    }
                }

                break;
            case ConditionType.PercentChange:
                _markets[(rule.Exchange, rule.Symbol)].DropPercentIfEmpty(rule.Condition.Window!.Value);
                break;
        }

        return true;
    }

    /// <summary>Evaluates the price and percent-change rules of the trade's market.</summary>
    public void OnTrade(string exchange, string symbol, decimal price, DateTimeOffset time, EvaluationSink sink)
    {
        if (_markets.TryGetValue((exchange, symbol), out var market))
        {
            market.OnTrade(price, time, sink, this);
        }
    }

    /// <summary>Evaluates the indicator rules of a closed kline's market and interval: one update per indicator group.</summary>
    public void OnClosedKline(KlineRecord kline, EvaluationSink sink)
    {
        if (!kline.Closed || !_indicators.TryGetValue((kline.Exchange, kline.Symbol, kline.Interval), out var groups))
        {
            return;
        }

        var bar = new IndicatorBar(kline.OpenTime, kline.Open, kline.High, kline.Low, kline.Close, kline.Volume);
        // A firing 'once' rule can empty and drop its group: iterate over a copy.
        foreach (var group in groups.Values.ToArray())
        {
            group.OnBar(bar, kline.Close, kline.CloseTime, sink, this);
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

        sink.Firings.Add(new Firing(rule, time, price, value, message, sink.Trigger));
    }

    /// <summary>Name and parameters, case-normalized and sorted: rules asking for the same indicator share one.</summary>
    private static string GroupKey(IndicatorSpec spec) => string.Join('|',
        spec.Params.Select(p => $"{p.Key.ToLowerInvariant()}={p.Value}").Order(StringComparer.Ordinal).Prepend(spec.Name.ToLowerInvariant()));

    private MarketBook Market(string exchange, string symbol)
    {
        if (!_markets.TryGetValue((exchange, symbol), out var market))
        {
            _markets[(exchange, symbol)] = market = new MarketBook(exchange, symbol, _recalledMarkets.GetValueOrDefault((exchange, symbol)));
        }

        return market;
    }

    private readonly record struct Placement(PriceEntry Entry, LevelBook Book);

    /// <summary>One indicator on one market and interval, shared by every rule that asks for it; a book per output.</summary>
    private sealed class IndicatorGroup(string exchange, string symbol, IndicatorSpec spec, IIndicator indicator)
    {
        private readonly Dictionary<string, LevelBook> _books = new(StringComparer.Ordinal);
        private DateTimeOffset? _lastBar;

        public DateTimeOffset? LastBar => _lastBar;

        public bool IsEmpty => _books.Values.All(b => b.Count == 0);

        /// <summary>The book of <paramref name="output"/>; a new one starts at the indicator's current value, so a
        /// crossing rule added to a warm group takes its side from it.</summary>
        public LevelBook Book(string output)
        {
            if (!_books.TryGetValue(output, out var book))
            {
                var name = spec.Name;
                var interval = spec.Interval;
                book = new LevelBook(inclusiveTrigger: false, (entry, value, _) => (
                    LevelBook.Invariant($"{name} {output} of {symbol} {interval} on {exchange} {LevelBook.Verb(entry)} {entry.Threshold}: {(double)value:G10}"),
                    value));
                book.LastValue = Output(output);
                _books[output] = book;
            }

            return book;
        }

        /// <summary>Feeds a bar once (a replayed or older kline is ignored); true when it was new.</summary>
        public bool Feed(IndicatorBar bar)
        {
            if (_lastBar is { } last && bar.Time <= last)
            {
                return false;
            }

            _lastBar = bar.Time;
            indicator.Update(bar);
            return true;
        }

        public void OnBar(IndicatorBar bar, decimal close, DateTimeOffset time, EvaluationSink sink, AlertEngine engine)
        {
            if (!Feed(bar))
            {
                return;
            }

            foreach (var (output, book) in _books.ToArray())
            {
                if (book.Count > 0 && Output(output) is { } value)
                {
                    book.OnValue(value, close, time, sink, engine);
                }
            }
        }

        /// <summary>The output as a decimal; null in warm-up, or for a value a decimal cannot hold (never compared).</summary>
        private decimal? Output(string output) =>
            indicator.Outputs.TryGetValue(output, out var v) && double.IsFinite(v) && Math.Abs(v) < 7.9e27 ? (decimal)v : null;
    }
}
