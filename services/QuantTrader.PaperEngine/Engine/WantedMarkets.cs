using System.Collections.Concurrent;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Trading.Matching;

namespace QuantTrader.PaperEngine.Engine;

/// <summary>
/// The MARKET_RAW subjects of the books that hold open orders: the trade feed asks (from its own thread) before it even
/// deserializes a message and passes only their prints to the engine; a print of any other market cannot fill anything.
/// Written by the engine only, after anything that may open or close an order.
/// <para>
/// Skipping never fills an order on a print older than the order, and never skips a print that came after it: a
/// market becomes wanted when the engine puts an order into its book — before the order is written and answered —
/// and the feed asks after the print was published. So a print skipped for a market that was not wanted was
/// published before any of its open orders was accepted. Such a print could at most have filled the order under
/// the matching engine's "only later prints" rule if it came between the order's reference print (the newest in
/// MARKET_RAW at admission) and its acceptance; the order then fills on the next print instead.
/// </para>
/// </summary>
public sealed class WantedMarkets
{
    private readonly ConcurrentDictionary<string, byte> _subjects = new(StringComparer.Ordinal);

    /// <summary>True when prints on this MARKET_RAW subject can fill something.</summary>
    public bool Wants(string subject) => _subjects.ContainsKey(subject);

    /// <summary>Brings the book's market in step with whether it holds open orders now.</summary>
    public void Track(MatchingEngine book)
    {
        var subject = Subjects.MarketRaw(book.Instrument.Exchange, book.Instrument.Symbol);
        if (book.OpenOrderCount > 0)
        {
            _subjects.TryAdd(subject, 0);
        }
        else
        {
            _subjects.TryRemove(subject, out _);
        }
    }
}
