using System.Collections.Concurrent;
using QuantTrader.Trading.Positions;

namespace QuantTrader.Analytics.Equity;

/// <summary>The latest closed 1m kline close of each market (<c>exchange:SYMBOL</c>): the price positions are marked at.</summary>
public sealed class Marks
{
    private readonly ConcurrentDictionary<string, decimal> _prices = new(StringComparer.Ordinal);

    public void Set(string exchange, string symbol, decimal close) => _prices[Portfolio.Key(exchange, symbol)] = close;

    public bool TryGet(string key, out decimal price) => _prices.TryGetValue(key, out price);
}
