using QuantTrader.Contracts.MarketData;

namespace QuantTrader.Gateway.Streaming;

public enum ChannelKind
{
    Trades,
    Candles,
    Orders,
    Fills,
    Alerts,
    Strategies,
    Portfolio,
}

/// <summary>
/// A channel a client may subscribe to: <c>trades.{exchange}.{SYMBOL}</c>, <c>candles.{exchange}.{interval}.{SYMBOL}</c>
/// (public), or one of the private names, which always mean the authenticated user's own.
/// </summary>
public sealed record StreamChannel(string Name, ChannelKind Kind, string Exchange = "", string Interval = "", string Symbol = "")
{
    public bool IsPrivate => Kind >= ChannelKind.Orders;

    /// <summary>Orders, fills and alerts carry a <c>seq</c> a reconnecting client resumes from.</summary>
    public bool IsSequenced => Kind is ChannelKind.Orders or ChannelKind.Fills or ChannelKind.Alerts;

    private static readonly Dictionary<string, ChannelKind> Private = new(StringComparer.Ordinal)
    {
        ["orders"] = ChannelKind.Orders,
        ["fills"] = ChannelKind.Fills,
        ["alerts"] = ChannelKind.Alerts,
        ["strategies"] = ChannelKind.Strategies,
        ["portfolio"] = ChannelKind.Portfolio,
    };

    /// <summary>The channel, or null with a sentence saying what is wrong with the name.</summary>
    public static StreamChannel? Parse(string name, IReadOnlyCollection<string> exchanges, out string? problem)
    {
        problem = null;
        if (Private.TryGetValue(name, out var kind))
        {
            return new StreamChannel(name, kind);
        }
        var parts = name.Split('.');
        switch (parts[0])
        {
            case "trades" when parts.Length == 3:
                return Market(name, ChannelKind.Trades, parts[1], "", parts[2], exchanges, out problem);
            case "candles" when parts.Length == 4:
                if (!KlineIntervals.IsKnown(parts[2]))
                {
                    problem = $"Unknown interval '{parts[2]}': use one of {string.Join(", ", KlineIntervals.All.Keys)}.";
                    return null;
                }
                return Market(name, ChannelKind.Candles, parts[1], parts[2], parts[3], exchanges, out problem);
            case "trades":
                problem = "A trades channel is 'trades.{exchange}.{SYMBOL}', e.g. 'trades.binance.BTCUSDT'.";
                return null;
            case "candles":
                problem = "A candles channel is 'candles.{exchange}.{interval}.{SYMBOL}', e.g. 'candles.binance.1m.BTCUSDT'.";
                return null;
            default:
                problem = "Unknown channel: use trades.{exchange}.{SYMBOL}, candles.{exchange}.{interval}.{SYMBOL}, orders, fills, alerts, strategies or portfolio.";
                return null;
        }
    }

    private static StreamChannel? Market(string name, ChannelKind kind, string exchange, string interval, string symbol,
        IReadOnlyCollection<string> exchanges, out string? problem)
    {
        problem = null;
        if (!exchanges.Contains(exchange))
        {
            problem = $"Unknown exchange '{exchange}': use one of {string.Join(", ", exchanges)} (lower case).";
            return null;
        }
        if (!IsSymbol(symbol))
        {
            problem = $"'{symbol}' is not a normalized symbol: 2 to 20 upper-case letters and digits, e.g. BTCUSDT.";
            return null;
        }
        return new StreamChannel(name, kind, exchange, interval, symbol);
    }

    /// <summary>Also keeps NATS wildcards and separators (<c>* &gt; .</c>) out of the subjects built from the name.</summary>
    private static bool IsSymbol(string symbol) =>
        symbol.Length is >= 2 and <= 20 && symbol.All(c => c is >= 'A' and <= 'Z' or >= '0' and <= '9');
}
