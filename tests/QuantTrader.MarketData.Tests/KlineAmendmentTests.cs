using System.Text.Json;
using System.Text.Json.Nodes;
using QuantTrader.Contracts.MarketData;
using QuantTrader.MarketData.Klines;

namespace QuantTrader.MarketData.Tests;

/// <summary>
/// Amended closes: a late trade of a recently closed window is added to that closed kline (as if it had come in time)
/// and handed out as a numbered amendment; older ones are still dropped; the kept windows survive a snapshot.
/// </summary>
public sealed class KlineAmendmentTests
{
    private static readonly DateTimeOffset Noon = new(2024, 3, 10, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Lateness = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan AmendWindow = TimeSpan.FromMinutes(5);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web); // as the kline service's checkpoint
    private static long _nextId;

    private static Trade T(DateTimeOffset time, decimal price, decimal quantity = 1m, TakerSide side = TakerSide.Buy) =>
        new("binance", "BTCUSDT", Interlocked.Increment(ref _nextId), price, quantity, side, time);

    private static DateTimeOffset At(int minutes, int seconds = 0) => Noon + TimeSpan.FromMinutes(minutes) + TimeSpan.FromSeconds(seconds);

    private static KlineAggregator Amending(params string[] intervals) =>
        new("binance", "BTCUSDT", intervals, amendWindow: AmendWindow);

    /// <summary>The closed kline of <paramref name="interval"/> at <paramref name="openTime"/> from these trades, all in time.</summary>
    private static Kline Recomputed(string interval, DateTimeOffset openTime, params Trade[] trades)
    {
        var reference = new KlineAggregator("binance", "BTCUSDT", [interval]);
        foreach (var trade in trades)
        {
            reference.OnTrade(trade, trade.Count);
        }

        return reference.OnClock(openTime + TimeSpan.FromDays(2), Lateness).Select(c => c.Kline).Single(k => k.OpenTime == openTime);
    }

    [Fact]
    public void A_late_trade_of_a_window_the_clock_closed_amends_that_kline_to_what_its_trades_give()
    {
        var aggregator = Amending("1m", "3m");
        Trade[] inTime = [T(At(0, 10), 100m, 2m), T(At(0, 20), 104m, 1m, TakerSide.Sell), T(At(0, 30), 99m, 0.5m)];
        foreach (var trade in inTime)
        {
            aggregator.OnTradeQuiet(trade);
        }

        var closed = Assert.Single(aggregator.OnClock(At(1, 3), Lateness)).Kline;
        Assert.Equal(Recomputed("1m", At(0), inTime), closed);

        // The backfill of a hand-over: two trades of the closed minute, later in the exchange's order, in one batch.
        Trade[] late = [T(At(0, 50), 106m, 1.25m, TakerSide.Sell), T(At(0, 55), 103m, 3m)];
        foreach (var trade in late)
        {
            Assert.Empty(aggregator.OnTradeQuiet(trade));
        }

        var amendment = Assert.Single(aggregator.TakeAmendments());
        Assert.Equal(1, amendment.Number);
        Assert.Equal(2, amendment.LateTrades);
        Assert.Equal(Recomputed("1m", At(0), [.. inTime, .. late]), amendment.Kline);
        Assert.Equal((100m, 106m, 99m, 103m, 7.75m, 5L), (amendment.Kline.Open, amendment.Kline.High, amendment.Kline.Low, amendment.Kline.Close, amendment.Kline.Volume, amendment.Kline.Trades));
        Assert.Equal((0L, 2L), (aggregator.LateTrades, aggregator.AmendedTrades));
        Assert.Empty(aggregator.TakeAmendments());

        // The 3m window is still open: it counted the late trades itself, as before.
        Assert.Equal(Recomputed("3m", At(0), [.. inTime, .. late]) with { Closed = false }, aggregator.OpenKline("3m"));

        // Another late trade later: the next amendment, with everything so far.
        var later = T(At(0, 58), 98m);
        aggregator.OnTradeQuiet(later);
        var second = Assert.Single(aggregator.TakeAmendments());
        Assert.Equal(2, second.Number);
        Assert.Equal(Recomputed("1m", At(0), [.. inTime, .. late, later]), second.Kline);
    }

    [Fact]
    public void A_late_trade_of_a_window_a_later_trade_closed_amends_it_and_leaves_the_open_window_as_it_was()
    {
        var aggregator = Amending("1m");
        var first = T(At(0, 10), 100m);
        var next = T(At(1, 5), 110m, 2m);
        aggregator.OnTradeQuiet(first);
        Assert.Single(aggregator.OnTradeQuiet(next));

        var late = T(At(0, 40), 90m, 1m, TakerSide.Sell);
        aggregator.OnTradeQuiet(late);

        Assert.Equal(Recomputed("1m", At(0), first, late), Assert.Single(aggregator.TakeAmendments()).Kline);
        Assert.Equal(Recomputed("1m", At(1), next) with { Closed = false }, aggregator.OpenKline("1m"));
        Assert.Equal(0, aggregator.LateTradesFor("1m"));
    }

    [Fact]
    public void A_late_trade_of_an_empty_closed_window_gives_it_that_trade_and_the_empty_klines_after_it_its_close()
    {
        var aggregator = Amending("1m");
        var first = T(At(0, 10), 100m);
        aggregator.OnTradeQuiet(first);
        // The clock closes 12:00 with its trade and 12:01, 12:02 empty at its close.
        Assert.Equal(3, aggregator.OnClock(At(3, 3), Lateness).Count);

        var late = T(At(1, 30), 120m, 2m);
        aggregator.OnTradeQuiet(late);

        var amended = aggregator.TakeAmendments();
        Assert.Equal([At(1), At(2)], amended.Select(a => a.Kline.OpenTime));
        Assert.Equal(Recomputed("1m", At(1), first, late), amended[0].Kline);
        Assert.Equal(Recomputed("1m", At(2), first, late), amended[1].Kline);
        // Empty klines still to come carry the new close too.
        var empty = Assert.Single(aggregator.OnClock(At(4, 3), Lateness)).Kline;
        Assert.Equal((120m, 0m), (empty.Close, empty.Volume));
    }

    [Fact]
    public void A_late_trade_of_a_window_older_than_the_amend_window_is_still_dropped_and_counted()
    {
        var aggregator = Amending("1m", "1h");
        aggregator.OnTradeQuiet(T(At(0, 10), 100m));
        aggregator.OnClock(At(1, 3), Lateness);
        // Five more minutes closed (empty): 12:00 ended 5 minutes before the latest close, 12:05 ends.
        aggregator.OnClock(At(6, 3), Lateness);

        aggregator.OnTradeQuiet(T(At(0, 30), 101m));

        Assert.Empty(aggregator.TakeAmendments());
        Assert.Equal((1L, 1L, 0L), (aggregator.LateTrades, aggregator.LateTradesFor("1m"), aggregator.AmendedTrades));
        // The hour's window is still open: it counts the trade.
        Assert.Equal(2, aggregator.OpenKline("1h")!.Trades);

        // One minute younger is still amended (and the empty minutes after it follow its new close).
        aggregator.OnTradeQuiet(T(At(1, 30), 102m));
        var amended = aggregator.TakeAmendments();
        Assert.Equal([At(1), At(2), At(3), At(4), At(5)], amended.Select(a => a.Kline.OpenTime));
        Assert.Equal([1L, 0L, 0L, 0L, 0L], amended.Select(a => a.Kline.Trades));
    }

    [Fact]
    public void Without_an_amend_window_every_late_trade_is_dropped_as_before()
    {
        var aggregator = new KlineAggregator("binance", "BTCUSDT", ["1m"]);
        aggregator.OnTradeQuiet(T(At(0, 10), 100m));
        aggregator.OnClock(At(1, 3), Lateness);

        aggregator.OnTradeQuiet(T(At(0, 30), 101m));

        Assert.False(aggregator.HasAmendments);
        Assert.Empty(aggregator.TakeAmendments());
        Assert.Equal(1, aggregator.LateTradesFor("1m"));
        Assert.All(aggregator.Snapshot().Intervals, i => Assert.Null(i.Recent));
    }

    [Fact]
    public void A_snapshot_keeps_the_closed_windows_and_their_amendment_numbers_so_a_restored_aggregator_amends_the_same()
    {
        var original = Amending("1m", "3m", "1h");
        Trade[] trades = [T(At(0, 10), 100m), T(At(0, 20), 101m, 0.3m, TakerSide.Sell), T(At(1, 10), 99m), T(At(2, 40), 97m)];
        foreach (var trade in trades)
        {
            original.OnTradeQuiet(trade);
        }

        original.OnClock(At(3, 3), Lateness);
        original.OnTradeQuiet(T(At(0, 40), 102m));
        Assert.Equal(1, Assert.Single(original.TakeAmendments(), a => a.Kline.Interval == "1m").Number);

        var json = JsonSerializer.Serialize(original.Snapshot(), Json);
        var restored = Amending("1m", "3m", "1h");
        restored.Restore(JsonSerializer.Deserialize<KlineAggregatorSnapshot>(json, Json)!);
        Assert.Equal(json, JsonSerializer.Serialize(restored.Snapshot(), Json));

        // The same late trade after the snapshot: the same amendments, numbered on from the snapshot.
        var late = T(At(0, 50), 104m, 2m);
        var fromOriginal = Feed(original, late);
        var fromRestored = Feed(restored, late);
        Assert.Equal(fromOriginal, fromRestored);
        Assert.Equal([("1m", 2), ("3m", 2)], fromRestored.Select(a => (a.Kline.Interval, a.Number)));
        Assert.Equal(JsonSerializer.Serialize(original.Snapshot(), Json), JsonSerializer.Serialize(restored.Snapshot(), Json));

        static List<KlineAmendment> Feed(KlineAggregator aggregator, Trade trade)
        {
            aggregator.OnTradeQuiet(trade);
            return [.. aggregator.TakeAmendments()];
        }
    }

    [Fact]
    public void A_snapshot_written_before_amendments_existed_still_restores_and_amends_from_the_next_close_on()
    {
        // The kline service's checkpoint format of the previous version: no kept windows, no amended-trade count.
        const string previous = """
            {"exchange":"binance","symbol":"BTCUSDT","intervals":[
              {"interval":"1m","open":{"exchange":"binance","symbol":"BTCUSDT","interval":"1m","openTime":"2024-03-10T12:01:00+00:00",
               "closeTime":"2024-03-10T12:01:59.999+00:00","open":100.5,"high":101,"low":100.5,"close":101,"volume":2,"quoteVolume":201.5,
               "trades":2,"takerBuyVolume":1,"takerBuyQuoteVolume":100.5,"closed":false},
               "lastClosedOpenTime":"2024-03-10T12:00:00+00:00","lastClose":100,"lateTrades":3}],
             "lateTrades":3}
            """;
        var snapshot = JsonSerializer.Deserialize<KlineAggregatorSnapshot>(previous, Json)!;
        var aggregator = Amending("1m");
        aggregator.Restore(snapshot);
        Assert.Equal(2, aggregator.OpenKline("1m")!.Trades);

        // 12:00 closed before the snapshot and was not kept: its late trade is dropped, as the old version did.
        aggregator.OnTradeQuiet(T(At(0, 30), 99m));
        Assert.Empty(aggregator.TakeAmendments());
        Assert.Equal(4, aggregator.LateTrades);

        // 12:01 closes after the restore: kept, so amended.
        aggregator.OnClock(At(2, 3), Lateness);
        aggregator.OnTradeQuiet(T(At(1, 30), 102m));
        var amendment = Assert.Single(aggregator.TakeAmendments());
        Assert.Equal((At(1), 1, 3L, 102m), (amendment.Kline.OpenTime, amendment.Number, amendment.Kline.Trades, amendment.Kline.Close));
    }

    [Fact]
    public void A_snapshot_with_a_kept_kline_after_the_last_closed_one_is_refused()
    {
        var aggregator = Amending("1m");
        var kept = new Kline("binance", "BTCUSDT", "1m", At(1), At(1, 59).AddMilliseconds(999), 1m, 1m, 1m, 1m, 1m, 1m, 1, 0m, 0m, Closed: true);
        var snapshot = new KlineAggregatorSnapshot("binance", "BTCUSDT",
            [new KlineIntervalSnapshot("1m", null, At(0), 1m, 0, [new KlineClosedSnapshot(kept, 0)])], 0);

        Assert.Throws<ArgumentException>(() => aggregator.Restore(snapshot));
    }

    [Fact]
    public void The_kept_windows_stay_within_the_amend_window_however_long_the_market_runs()
    {
        var aggregator = Amending("1m", "1d");
        for (var minute = 0; minute < 120; minute++)
        {
            aggregator.OnTradeQuiet(T(At(minute, 1), 100m + minute));
        }

        var intervals = aggregator.Snapshot().Intervals.ToDictionary(i => i.Interval);
        Assert.Equal([At(114), At(115), At(116), At(117), At(118)], intervals["1m"].Recent!.Select(k => k.Kline.OpenTime));
        Assert.Null(intervals["1d"].Recent);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Whatever_arrives_late_the_last_version_of_every_closed_kline_equals_its_accepted_trades_and_a_restored_copy_says_the_same(int seed)
    {
        var random = new Random(seed);
        var aggregator = new KlineAggregator("binance", "BTCUSDT", amendWindow: AmendWindow);
        KlineAggregator? copy = null;
        var latest = new Dictionary<(string, DateTimeOffset), (Kline Kline, int Number)>();
        var accepted = new Dictionary<(string, DateTimeOffset), List<Trade>>();
        var now = At(0);
        for (var step = 0; step < 3000; step++)
        {
            now += TimeSpan.FromMilliseconds(random.Next(0, 4000));
            if (random.Next(20) == 0)
            {
                // The clock, a little behind or right on time.
                var clock = now + TimeSpan.FromMilliseconds(random.Next(0, 5000));
                Record(aggregator.OnClock(clock, Lateness), copy?.OnClock(clock, Lateness));
                continue;
            }

            // Mostly in time; some late by up to 8 minutes (some amended, some too old and dropped).
            var time = random.Next(6) == 0 ? now - TimeSpan.FromMilliseconds(random.Next(0, 480_000)) : now;
            var trade = new Trade("binance", "BTCUSDT", step + 1, random.Next(90, 110) + (random.Next(100) / 100m),
                random.Next(1, 500) / 100m, random.Next(2) == 0 ? TakerSide.Buy : TakerSide.Sell, time, Count: random.Next(1, 3));
            var lateBefore = aggregator.Intervals.Select(aggregator.LateTradesFor).ToArray();
            Record(aggregator.OnTradeQuiet(trade, trade.Count), copy?.OnTradeQuiet(trade, trade.Count));
            for (var i = 0; i < aggregator.Intervals.Count; i++)
            {
                var interval = aggregator.Intervals[i];
                if (aggregator.LateTradesFor(interval) == lateBefore[i])
                {
                    var key = (interval, KlineAggregator.WindowStart(time, KlineIntervals.All[interval]));
                    (accepted.TryGetValue(key, out var list) ? list : accepted[key] = []).Add(trade);
                }
            }

            var amendments = aggregator.TakeAmendments();
            Assert.Equal(amendments, copy?.TakeAmendments() ?? amendments);
            foreach (var amendment in amendments)
            {
                var key = (amendment.Kline.Interval, amendment.Kline.OpenTime);
                Assert.Equal(latest[key].Number + 1, amendment.Number);
                latest[key] = (amendment.Kline, amendment.Number);
            }

            if (step == 1500)
            {
                copy = new KlineAggregator("binance", "BTCUSDT", amendWindow: AmendWindow);
                copy.Restore(JsonSerializer.Deserialize<KlineAggregatorSnapshot>(JsonSerializer.Serialize(aggregator.Snapshot(), Json), Json)!);
            }
        }

        Assert.True(aggregator.AmendedTrades > 0 && aggregator.LateTrades > 0, "the run had both amended and dropped late trades");
        foreach (var interval in aggregator.Intervals)
        {
            // Window by window in time order, as a recomputation does: empty windows carry the previous close.
            decimal? previousClose = null;
            foreach (var ((_, openTime), (kline, _)) in latest.Where(l => l.Key.Item1 == interval).OrderBy(l => l.Key.Item2))
            {
                if (accepted.TryGetValue((interval, openTime), out var trades))
                {
                    Assert.Equal(Recomputed(interval, openTime, [.. trades]), kline);
                }
                else
                {
                    Assert.Equal((0L, previousClose), (kline.Trades, (decimal?)kline.Close));
                }

                previousClose = kline.Close;
            }
        }

        void Record(IReadOnlyList<KlineChange> changes, IReadOnlyList<KlineChange>? fromCopy)
        {
            Assert.Equal(changes, fromCopy ?? changes);
            foreach (var change in changes)
            {
                latest[(change.Kline.Interval, change.Kline.OpenTime)] = (change.Kline, 0);
            }
        }
    }
}
