using QuantTrader.Alert.Rules;

namespace QuantTrader.Alert.Evaluation;

/// <summary>
/// The trade-driven rules of one market: its price rules in one <see cref="LevelBook"/> on the price, and its
/// percent-change rules in one <see cref="LevelBook"/> per window on the change over that window. A trade computes each
/// window's change once, however many rules watch it, and then costs what a price book costs. Each window remembers
/// the market's past prices in a <see cref="BucketedPriceWindow"/> of fixed size, whatever the trade rate.
/// </summary>
internal sealed class MarketBook
{
    private readonly Dictionary<TimeSpan, (LevelBook Book, BucketedPriceWindow Prices)> _percent = [];

    private readonly MarketMemory? _recalled;

    /// <param name="recalled">What a previous owner remembered of this market: the books created here start from it.</param>
    public MarketBook(string exchange, string symbol, MarketMemory? recalled = null)
    {
        _recalled = recalled;
        Price = new LevelBook(inclusiveTrigger: false, (entry, _, price) => (
            LevelBook.Invariant($"{symbol} on {exchange} {LevelBook.Verb(entry)} {entry.Threshold}: traded at {price}"), null));
        Price.LastValue = recalled?.LastPrice;
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
        if (!_percent.TryGetValue(window, out var percent))
        {
            // "At least value %": inclusive. Rises are Up entries, falls Down entries of the same book.
            var book = new LevelBook(inclusiveTrigger: true, (entry, change, price) => (
                LevelBook.Invariant($"{Symbol} on {Exchange} changed {Math.Round(change, 4):+0.####;-0.####;0}% over {window} (threshold {entry.Threshold}%): traded at {price}"),
                Math.Round(change, 8)));
            var prices = new BucketedPriceWindow(window);
            if (_recalled?.Windows.FirstOrDefault(w => w.WindowTicks == window.Ticks) is { } memory)
            {
                book.LastValue = memory.LastChange;
                foreach (var point in memory.Prices)
                {
                    prices.Add(new DateTimeOffset(point.Ticks, TimeSpan.Zero), point.Price);
                }
            }

            _percent[window] = percent = (book, prices);
        }

        return percent.Book;
    }

    /// <summary>Price samples held for the percent-change windows (bounded: see <see cref="BucketedPriceWindow"/>).</summary>
    public int RememberedPrices => _percent.Values.Sum(p => p.Prices.Count);

    public MarketMemory Remember() => new(Exchange, Symbol, Price.LastValue,
        [.. _percent.Select(p => new WindowMemory(p.Key.Ticks, p.Value.Book.LastValue, p.Value.Prices.Export()))]);

    public void DropPercentIfEmpty(TimeSpan window)
    {
        if (_percent.TryGetValue(window, out var percent) && percent.Book.Count == 0)
        {
            _percent.Remove(window);
        }
    }

    public void OnTrade(decimal price, DateTimeOffset time, EvaluationSink sink, AlertEngine engine)
    {
        Price.OnValue(price, price, time, sink, engine);
        if (_percent.Count == 0)
        {
            return;
        }

        foreach (var (book, prices) in _percent.Values)
        {
            var reference = prices.ReferenceFor(time);
            prices.Add(time, price);
            // No price one window back yet: the change is unknown, so nothing fires and nothing re-arms.
            if (reference is { } r && r > 0)
            {
                book.OnValue((price - r) / r * 100m, price, time, sink, engine);
            }
        }
    }
}
