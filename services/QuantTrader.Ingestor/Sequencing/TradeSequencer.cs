using QuantTrader.Contracts.MarketData;

namespace QuantTrader.Ingestor.Sequencing;

public enum SequenceVerdict
{
    /// <summary>The next id (or the first one seen): publish it.</summary>
    Publish,

    /// <summary>Already published (an overlapping connection or an exchange re-send): drop it.</summary>
    Duplicate,

    /// <summary>Ids are missing before it: backfill <see cref="SequenceDecision.GapFrom"/>..<see cref="SequenceDecision.GapTo"/> first.</summary>
    Gap,
}

public readonly record struct SequenceDecision(SequenceVerdict Verdict, long GapFrom = 0, long GapTo = 0);

/// <summary>What a backfill yielded: trades to publish (in id order, each once) and the id ranges nobody could supply.</summary>
public sealed record BackfillOutcome(IReadOnlyList<Trade> Trades, IReadOnlyList<(long From, long To)> Missing);

/// <summary>
/// Trade-id continuity per symbol on one exchange, the single ordering point every connection of that exchange
/// feeds. Because it drops every id at or below the last one published, two connections may deliver the same
/// trades at once (the 24 h switch, OKX's 64008 hand-over) and each trade still goes out exactly once and in order;
/// because it stops at a jump, a reconnect's missed trades are backfilled before the live ones continue.
/// Not thread-safe: one pipeline loop owns it.
/// </summary>
public sealed class TradeSequencer
{
    private readonly Dictionary<string, long> _last = new(StringComparer.Ordinal);

    /// <summary>The last id published for <paramref name="symbol"/>, or null before the first.</summary>
    public long? Last(string symbol) => _last.TryGetValue(symbol, out var last) ? last : null;

    /// <summary>
    /// Continues a symbol after the id a previous run of the ingestor published last, before its first live trade of
    /// this run: the trades in between become a gap to backfill, and re-sent ones duplicates.
    /// </summary>
    public void Resume(string symbol, long lastPublished)
    {
        if (!_last.ContainsKey(symbol))
        {
            _last[symbol] = lastPublished;
        }
    }

    /// <summary>
    /// Decides about one live trade id. <see cref="SequenceVerdict.Gap"/> does not advance: the caller backfills,
    /// calls <see cref="Fill"/> and offers the trade again.
    /// </summary>
    public SequenceDecision Offer(string symbol, long tradeId)
    {
        if (!_last.TryGetValue(symbol, out var last))
        {
            // The first trade of a market that was never published (or whose last id could not be read): nothing before
            // it is ours to fill.
            _last[symbol] = tradeId;
            return new SequenceDecision(SequenceVerdict.Publish);
        }

        if (tradeId <= last)
        {
            return new SequenceDecision(SequenceVerdict.Duplicate);
        }

        if (tradeId == last + 1)
        {
            _last[symbol] = tradeId;
            return new SequenceDecision(SequenceVerdict.Publish);
        }

        return new SequenceDecision(SequenceVerdict.Gap, last + 1, tradeId - 1);
    }

    /// <summary>
    /// Takes the backfilled trades for the gap <paramref name="from"/>..<paramref name="to"/> (any order, duplicates and
    /// trades outside the gap allowed) and moves the sequence to <paramref name="to"/>; what was not supplied is
    /// reported as missing ranges, never silently skipped.
    /// </summary>
    public BackfillOutcome Fill(string symbol, long from, long to, IEnumerable<Trade> fetched)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(from, to);
        var inGap = new SortedDictionary<long, Trade>();
        foreach (var trade in fetched)
        {
            if (trade.Symbol == symbol && trade.TradeId >= from && trade.TradeId <= to)
            {
                inGap.TryAdd(trade.TradeId, trade);
            }
        }

        var missing = new List<(long, long)>();
        var expected = from;
        foreach (var id in inGap.Keys)
        {
            if (id > expected)
            {
                missing.Add((expected, id - 1));
            }

            expected = id + 1;
        }

        if (expected <= to)
        {
            missing.Add((expected, to));
        }

        _last[symbol] = Math.Max(_last.GetValueOrDefault(symbol, to), to);
        return new BackfillOutcome([.. inGap.Values], missing);
    }
}
