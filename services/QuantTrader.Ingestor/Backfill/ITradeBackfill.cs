using QuantTrader.Contracts.MarketData;
using QuantTrader.MarketData.Normalization;

namespace QuantTrader.Ingestor.Backfill;

/// <summary>An exchange's REST history, asked for the trades a connector missed.</summary>
public interface ITradeBackfill
{
    string Exchange { get; }

    /// <summary>
    /// Trades with ids in <paramref name="fromId"/>..<paramref name="toId"/> (as many as the exchange still has, at most
    /// <paramref name="max"/>), in any order; the sequencer sorts, de-duplicates and reports what is missing. A null
    /// <paramref name="toId"/> asks for everything from <paramref name="fromId"/> up to the newest trade (a catch-up).
    /// </summary>
    Task<IReadOnlyList<Trade>> FetchAsync(Instrument instrument, long fromId, long? toId, int max, CancellationToken ct);
}
