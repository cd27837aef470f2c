using System.Collections.Concurrent;
using QuantTrader.Trading.Positions;

namespace QuantTrader.Analytics.Equity;

/// <summary>
/// The latest closed 1m kline close of each market (<c>exchange:SYMBOL</c>): the price positions are marked at. Only a
/// newer kline replaces a mark, so the stored marks read at start-up and the stream's can arrive in any order.
/// </summary>
public sealed class Marks
{
    private readonly ConcurrentDictionary<string, (DateTimeOffset OpenTime, decimal Close)> _prices = new(StringComparer.Ordinal);

    public void Set(string exchange, string symbol, DateTimeOffset openTime, decimal close) =>
        _prices.AddOrUpdate(Portfolio.Key(exchange, symbol), (openTime, close),
            (_, current) => openTime >= current.OpenTime ? (openTime, close) : current);

    public bool TryGet(string key, out decimal price)
    {
        var found = _prices.TryGetValue(key, out var mark);
        price = mark.Close;
        return found;
    }
}
