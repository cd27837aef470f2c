using System.Collections.Concurrent;
using System.Text.Json;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Trading;
using QuantTrader.Trading.Matching;

namespace QuantTrader.PaperEngine.Engine;

/// <summary>
/// The newest print of every market, wherever it went: the prints the trade feed skipped (markets without open orders,
/// see <see cref="WantedMarkets"/>) and the newest handed to the trade lane. From them come the marks that price
/// positions (PnL for risk and the portfolio) and the reference print an overtaking order must wait past. Written by
/// the trade feed's thread, read by the engine's.
/// </summary>
public sealed class MarksTracker(ILogger<MarksTracker> logger)
{
    // The newest message of each market the trade feed skipped, raw, per MARKET_RAW subject; parsed only when needed.
    // Its newest print is its last trade (a batch is in trade-id order).
    private readonly ConcurrentDictionary<string, (byte[] Data, ulong Sequence)> _skipped = new(StringComparer.Ordinal);

    // The newest print handed to the trade lane, per MARKET_RAW subject, recorded before it is queued (of a batch: its last).
    private readonly ConcurrentDictionary<string, Trade> _handedOver = new(StringComparer.Ordinal);

    /// <summary>The feed skipped this message (called in stream order): only its newest print is kept.</summary>
    public void Skipped(string subject, byte[] data, ulong streamSequence) => _skipped[subject] = (data, streamSequence);

    /// <summary>The feed is about to queue a message whose newest print is <paramref name="newest"/>.</summary>
    public void HandedOver(string subject, Trade newest) => _handedOver[subject] = newest;

    /// <summary>
    /// The print an order on <paramref name="subject"/> must wait past: the newer of <paramref name="reference"/> (read
    /// from MARKET_RAW at admission) and the newest print already handed to the trade lane.
    /// </summary>
    public Trade? ReferenceFor(string subject, Trade? reference) =>
        _handedOver.TryGetValue(subject, out var handed) && (reference is null || handed.TradeId > reference.TradeId)
            ? handed
            : reference;

    /// <summary>
    /// Takes the newest skipped print of each market, with its message's stream sequence, and forgets it. A market
    /// whose newer print arrives meanwhile keeps that one for the next call.
    /// </summary>
    public IReadOnlyList<(Trade Trade, ulong Sequence)> TakeSkipped()
    {
        var taken = new List<(Trade, ulong)>();
        foreach (var entry in _skipped)
        {
            if (_skipped.TryRemove(entry) && Newest(entry.Value.Data) is { } trade)
            {
                taken.Add((trade, entry.Value.Sequence));
            }
        }

        return taken;
    }

    /// <summary>
    /// Last trade price per market (<see cref="Instrument.Key"/>, the portfolio's key): the book's, or the newest
    /// skipped print's when that is newer (a market without open orders gets its prints only that way).
    /// </summary>
    public Dictionary<string, decimal> Marks(PaperExchange exchange)
    {
        var marks = exchange.Books.Where(b => b.LastPrice is not null).ToDictionary(b => b.Instrument.Key, b => b.LastPrice!.Value, StringComparer.Ordinal);
        foreach (var (_, (data, _)) in _skipped)
        {
            if (Newest(data) is { } trade && exchange.GetBook(trade.Exchange, trade.Symbol) is { } book
                && (book.LastTradeId is null || trade.TradeId > book.LastTradeId))
            {
                marks[book.Instrument.Key] = trade.Price;
            }
        }

        return marks;
    }

    /// <summary>Each asset's price in <paramref name="valuationAsset"/>, from the latest trade of any exchange quoting it in that asset.</summary>
    public Dictionary<string, decimal> AssetPrices(PaperExchange exchange, string valuationAsset)
    {
        var marks = Marks(exchange);
        var prices = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (MatchingEngine book in exchange.Books.Where(b => b.Instrument.QuoteAsset == valuationAsset))
        {
            if (marks.TryGetValue(book.Instrument.Key, out var price))
            {
                prices[book.Instrument.BaseAsset] = price;
            }
        }

        return prices;
    }

    /// <summary>The newest print of a message: its only trade, or the last of a batch; null for none or unreadable.</summary>
    private Trade? Newest(byte[] data)
    {
        try
        {
            var trades = TradeMessages.Decode(data);
            return trades.Length > 0 ? trades[^1] : null;
        }
        catch (JsonException ex)
        {
            logger.LogWarning(ex, "Ignoring a malformed skipped trade");
            return null;
        }
    }
}
