using QuantTrader.Alert.Rules;

namespace QuantTrader.Alert.Evaluation;

/// <summary>
/// The trade-driven rules of one market: its price rules in one <see cref="LevelBook"/> on the price, and its
/// percent-change rules in one <see cref="LevelBook"/> per window on the change over that window. A trade computes each
/// window's change once, however many rules watch it, and then costs what a price book costs.
/// </summary>
internal sealed class MarketBook
{
    private readonly Dictionary<TimeSpan, LevelBook> _percent = [];
    private readonly PriceWindow _window = new();

    public MarketBook(string exchange, string symbol)
    {
        Price = new LevelBook(inclusiveTrigger: false, (entry, _, price) => (
            LevelBook.Invariant($"{symbol} on {exchange} {LevelBook.Verb(entry)} {entry.Threshold}: traded at {price}"), null));
        Exchange = exchange;
        Symbol = symbol;
    }

    public string Exchange { get; }

    public string Symbol { get; }

    public LevelBook Price { get; }

    public bool IsEmpty => Price.Count == 0 && _percent.Count == 0;

    /// <summary>The book of the percent-change rules over <paramref name="window"/>, created on first use.</summary>
    public LevelBook Percent(TimeSpan window)
    {
        if (!_percent.TryGetValue(window, out var book))
        {
            // "At least value %": inclusive. Rises are Up entries, falls Down entries of the same book.
            _percent[window] = book = new LevelBook(inclusiveTrigger: true, (entry, change, price) => (
                LevelBook.Invariant($"{Symbol} on {Exchange} changed {Math.Round(change, 4):+0.####;-0.####;0}% over {window} (threshold {entry.Threshold}%): traded at {price}"),
                Math.Round(change, 8)));
            _window.Keep = _percent.Keys.Max();
        }

        return book;
    }

    public void DropPercentIfEmpty(TimeSpan window)
    {
        if (_percent.TryGetValue(window, out var book) && book.Count == 0)
        {
            _percent.Remove(window);
            _window.Keep = _percent.Count == 0 ? TimeSpan.Zero : _percent.Keys.Max();
        }
    }

    public void OnTrade(decimal price, DateTimeOffset time, EvaluationSink sink, AlertEngine engine)
    {
        Price.OnValue(price, price, time, sink, engine);
        if (_percent.Count == 0)
        {
            return;
        }

        _window.Add(time, price);
        foreach (var (window, book) in _percent)
        {
            // No price one window back yet: the change is unknown, so nothing fires and nothing re-arms.
            if (_window.PriceAt(time - window) is { } reference && reference > 0)
            {
                book.OnValue((price - reference) / reference * 100m, price, time, sink, engine);
            }
        }
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
