using FsCheck;
using FsCheck.Xunit;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Ingestor.Sequencing;

namespace QuantTrader.Ingestor.Tests;

public sealed class TradeSequencerTests
{
    private static Trade T(long id, string symbol = "BTCUSDT") =>
        new("binance", symbol, id, 100m, 1m, TakerSide.Buy, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + id));

    [Fact]
    public void The_first_trade_starts_the_sequence_and_the_next_id_is_published()
    {
        var s = new TradeSequencer();
        Assert.Equal(SequenceVerdict.Publish, s.Offer("BTCUSDT", 100).Verdict);
        Assert.Equal(SequenceVerdict.Publish, s.Offer("BTCUSDT", 101).Verdict);
        Assert.Equal(101, s.Last("BTCUSDT"));
    }

    [Fact]
    public void An_id_at_or_below_the_last_is_a_duplicate()
    {
        var s = new TradeSequencer();
        s.Offer("BTCUSDT", 100);
        s.Offer("BTCUSDT", 101);
        Assert.Equal(SequenceVerdict.Duplicate, s.Offer("BTCUSDT", 101).Verdict);
        Assert.Equal(SequenceVerdict.Duplicate, s.Offer("BTCUSDT", 50).Verdict);
    }

    [Fact]
    public void A_jump_is_a_gap_naming_the_missing_ids_and_does_not_advance()
    {
        var s = new TradeSequencer();
        s.Offer("BTCUSDT", 100);
        var d = s.Offer("BTCUSDT", 105);
        Assert.Equal(new SequenceDecision(SequenceVerdict.Gap, 101, 104), d);
        Assert.Equal(100, s.Last("BTCUSDT"));
    }

    [Fact]
    public void Resuming_after_a_previous_runs_last_id_makes_the_outage_a_gap_and_a_re_sent_trade_a_duplicate()
    {
        var s = new TradeSequencer();
        s.Resume("BTCUSDT", 100);
        Assert.Equal(SequenceVerdict.Duplicate, s.Offer("BTCUSDT", 100).Verdict);
        Assert.Equal(new SequenceDecision(SequenceVerdict.Gap, 101, 119), s.Offer("BTCUSDT", 120));

        // Only before a symbol's first trade of this run: once live, the sequence is its own.
        s.Offer("ETHUSDT", 7);
        s.Resume("ETHUSDT", 3);
        Assert.Equal(SequenceVerdict.Publish, s.Offer("ETHUSDT", 8).Verdict);
    }

    [Fact]
    public void Symbols_are_sequenced_independently()
    {
        var s = new TradeSequencer();
        s.Offer("BTCUSDT", 100);
        Assert.Equal(SequenceVerdict.Publish, s.Offer("ETHUSDT", 7).Verdict);
        Assert.Equal(SequenceVerdict.Publish, s.Offer("BTCUSDT", 101).Verdict);
    }

    [Fact]
    public void Fill_returns_the_gap_in_order_once_and_reports_what_is_missing()
    {
        var s = new TradeSequencer();
        s.Offer("BTCUSDT", 100);
        var gap = s.Offer("BTCUSDT", 110);
        // REST answers out of order, with duplicates, with trades outside the gap and another symbol's, and without 104..105.
        var fetched = new[] { T(103), T(101), T(102), T(103), T(99), T(106), T(107), T(108), T(109), T(110), T(111), T(102, "ETHUSDT") };
        var outcome = s.Fill("BTCUSDT", gap.GapFrom, gap.GapTo, fetched);

        Assert.Equal([101L, 102, 103, 106, 107, 108, 109], outcome.Trades.Select(t => t.TradeId));
        Assert.Equal([(104L, 105L)], outcome.Missing);
        Assert.Equal(SequenceVerdict.Publish, s.Offer("BTCUSDT", 110).Verdict);
    }

    [Fact]
    public void Fill_with_nothing_reports_the_whole_gap_missing()
    {
        var s = new TradeSequencer();
        s.Offer("BTCUSDT", 1);
        var outcome = s.Fill("BTCUSDT", 2, 9, []);
        Assert.Empty(outcome.Trades);
        Assert.Equal([(2L, 9L)], outcome.Missing);
    }

    /// <summary>
    /// The 24 h switch and reconnects: two connections deliver overlapping, interleaved copies of one feed (each in
    /// its own order, the new one starting anywhere at or before the old one's position). Every id comes out once,
    /// in order, with no gap.
    /// </summary>
    [Property(MaxTest = 300)]
    public bool Two_overlapping_feeds_interleaved_yield_every_trade_once_in_order(PositiveInt length, NonNegativeInt overlapStart, int seed)
    {
        var n = Math.Min(length.Get, 500);
        var switchAt = overlapStart.Get % n; // the old connection had delivered 1..switchAt when the successor opened
        var random = new Random(seed);
        var merged = Enumerable.Range(1, switchAt).Select(i => (long)i).ToList();
        long nextOld = switchAt + 1, nextNew = random.Next(1, switchAt + 2); // the successor starts at or before "now"
        while (nextOld <= n || nextNew <= n)
        {
            if (nextNew > n || (nextOld <= n && random.Next(2) == 0))
            {
                merged.Add(nextOld++);
            }
            else
            {
                merged.Add(nextNew++);
            }
        }

        var s = new TradeSequencer();
        var published = new List<long>();
        foreach (var id in merged)
        {
            var d = s.Offer("X", id);
            Assert.NotEqual(SequenceVerdict.Gap, d.Verdict); // an overlap never looks like a hole
            if (d.Verdict == SequenceVerdict.Publish)
            {
                published.Add(id);
            }
        }

        return published.SequenceEqual(Enumerable.Range(1, n).Select(i => (long)i));
    }
}
