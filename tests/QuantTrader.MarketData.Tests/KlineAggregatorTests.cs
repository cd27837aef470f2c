using System.Text.Json;
using QuantTrader.Contracts.MarketData;
using QuantTrader.MarketData.Klines;

namespace QuantTrader.MarketData.Tests;

public sealed class KlineAggregatorTests
{
    private static readonly DateTimeOffset Noon = new(2024, 3, 10, 12, 0, 0, TimeSpan.Zero);
    private static long _nextId;

    private static Trade T(DateTimeOffset time, decimal price, decimal quantity = 1m, TakerSide side = TakerSide.Buy) =>
        new("binance", "BTCUSDT", Interlocked.Increment(ref _nextId), price, quantity, side, time);

    private static DateTimeOffset At(int minutes, int seconds = 0, int ms = 0) =>
        Noon + TimeSpan.FromMinutes(minutes) + TimeSpan.FromSeconds(seconds) + TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void Window_is_half_open_and_close_time_is_end_minus_one_millisecond()
    {
        var aggregator = new KlineAggregator("binance", "BTCUSDT", ["1m"]);
        var first = Assert.Single(aggregator.OnTrade(T(At(0, 59, 999), 100m)));
        Assert.Equal(At(0), first.Kline.OpenTime);
        Assert.Equal(At(0, 59, 999), first.Kline.CloseTime);
        Assert.Equal(KlineChangeKind.Updated, first.Kind);
        Assert.False(first.Kline.Closed);

        var changes = aggregator.OnTrade(T(At(1), 101m));
        Assert.Equal([KlineChangeKind.Closed, KlineChangeKind.Updated], changes.Select(c => c.Kind));
        Assert.True(changes[0].Kline.Closed);
        Assert.Equal(At(0), changes[0].Kline.OpenTime);
        Assert.Equal(At(1), changes[1].Kline.OpenTime);
    }

    [Fact]
    public void Ohlc_volumes_and_taker_buy_side_accumulate_like_binance()
    {
        var aggregator = new KlineAggregator("binance", "BTCUSDT", ["1m"]);
        aggregator.OnTrade(T(At(0, 1), 100m, 2m, TakerSide.Buy), tradeCount: 3);
        aggregator.OnTrade(T(At(0, 2), 105m, 1m, TakerSide.Sell));
        aggregator.OnTrade(T(At(0, 3), 95m, 0.5m, TakerSide.Sell));
        var last = Assert.Single(aggregator.OnTrade(T(At(0, 4), 101m, 1.5m, TakerSide.Buy))).Kline;

        Assert.Equal(
            new Kline("binance", "BTCUSDT", "1m", At(0), At(0, 59, 999),
                Open: 100m, High: 105m, Low: 95m, Close: 101m,
                Volume: 5m, QuoteVolume: 200m + 105m + 47.5m + 151.5m, Trades: 6,
                TakerBuyVolume: 3.5m, TakerBuyQuoteVolume: 200m + 151.5m, Closed: false),
            last);
    }

    [Fact]
    public void Minutes_without_trades_close_as_empty_klines_at_the_previous_close()
    {
        var aggregator = new KlineAggregator("binance", "BTCUSDT", ["1m", "3m", "5m"]);
        aggregator.OnTrade(T(At(0, 10), 100m));
        aggregator.OnTrade(T(At(0, 20), 99m));
        var changes = aggregator.OnTrade(T(At(3, 5), 105m));

        // Shortest interval first; within it, closes in time order, then the open kline.
        Assert.Equal(
            [("1m", KlineChangeKind.Closed, At(0)), ("1m", KlineChangeKind.ClosedEmpty, At(1)), ("1m", KlineChangeKind.ClosedEmpty, At(2)),
             ("1m", KlineChangeKind.Updated, At(3)), ("3m", KlineChangeKind.Closed, At(0)), ("3m", KlineChangeKind.Updated, At(3)),
             ("5m", KlineChangeKind.Updated, At(0))],
            changes.Select(c => (c.Kline.Interval, c.Kind, c.Kline.OpenTime)));

        var empty = changes[1].Kline;
        Assert.Equal(
            new Kline("binance", "BTCUSDT", "1m", At(1), At(1, 59, 999), 99m, 99m, 99m, 99m, 0m, 0m, 0, 0m, 0m, Closed: true),
            empty);
    }

    [Fact]
    public void Four_hour_and_daily_windows_align_to_utc()
    {
        var aggregator = new KlineAggregator("binance", "BTCUSDT", ["4h", "1d"]);
        var changes = aggregator.OnTrade(T(new DateTimeOffset(2024, 3, 10, 5, 30, 0, TimeSpan.FromHours(2)), 1m));
        Assert.Equal(new DateTimeOffset(2024, 3, 10, 0, 0, 0, TimeSpan.Zero), changes[0].Kline.OpenTime); // 03:30 UTC
        Assert.Equal(new DateTimeOffset(2024, 3, 10, 3, 59, 59, 999, TimeSpan.Zero), changes[0].Kline.CloseTime);
        Assert.Equal(new DateTimeOffset(2024, 3, 10, 0, 0, 0, TimeSpan.Zero), changes[1].Kline.OpenTime);
        Assert.Equal(new DateTimeOffset(2024, 3, 10, 23, 59, 59, 999, TimeSpan.Zero), changes[1].Kline.CloseTime);
        Assert.Equal(TimeSpan.Zero, changes[1].Kline.OpenTime.Offset);
    }

    [Fact]
    public void Clock_closes_after_the_allowed_lateness_and_fills_passed_empty_minutes()
    {
        var lateness = TimeSpan.FromSeconds(2);
        var aggregator = new KlineAggregator("binance", "BTCUSDT", ["1m", "3m"]);
        aggregator.OnTrade(T(At(0, 30), 100m));

        Assert.Empty(aggregator.OnClock(At(1, 1, 999), lateness));
        var closed = Assert.Single(aggregator.OnClock(At(1, 2), lateness));
        Assert.Equal((KlineChangeKind.Closed, At(0), "1m"), (closed.Kind, closed.Kline.OpenTime, closed.Kline.Interval));
        Assert.Null(aggregator.OpenKline("1m"));

        var later = aggregator.OnClock(At(3, 2), lateness);
        Assert.Equal(
            [("1m", KlineChangeKind.ClosedEmpty, At(1)), ("1m", KlineChangeKind.ClosedEmpty, At(2)), ("3m", KlineChangeKind.Closed, At(0))],
            later.Select(c => (c.Kline.Interval, c.Kind, c.Kline.OpenTime)));

        // A clock that goes back changes nothing; the same clock again changes nothing.
        Assert.Empty(aggregator.OnClock(At(2), lateness));
        Assert.Empty(aggregator.OnClock(At(3, 2), lateness));

        // The next trade continues right after what the clock closed: no duplicate empty klines.
        var next = aggregator.OnTrade(T(At(4, 1), 110m));
        Assert.Equal(
            [("1m", KlineChangeKind.ClosedEmpty, At(3)), ("1m", KlineChangeKind.Updated, At(4)), ("3m", KlineChangeKind.Updated, At(3))],
            next.Select(c => (c.Kline.Interval, c.Kind, c.Kline.OpenTime)));
        Assert.Equal(100m, next[0].Kline.Close);
    }

    [Fact]
    public void Trade_for_a_window_the_clock_already_closed_is_dropped_for_that_interval_only()
    {
        var aggregator = new KlineAggregator("binance", "BTCUSDT", ["1m", "3m"]);
        aggregator.OnTrade(T(At(0, 30), 100m));
        aggregator.OnClock(At(2, 3), TimeSpan.FromSeconds(2)); // closes 1m 12:00 and the empty 12:01

        var changes = aggregator.OnTrade(T(At(1, 30), 90m, 2m));

        var only = Assert.Single(changes);
        Assert.Equal(("3m", 3m, 90m), (only.Kline.Interval, only.Kline.Volume, only.Kline.Low));
        Assert.Equal(1, aggregator.LateTrades);
        Assert.Equal(1, aggregator.LateTradesFor("1m"));
        Assert.Equal(0, aggregator.LateTradesFor("3m"));
    }

    [Fact]
    public void Trade_older_than_the_open_kline_is_late_where_its_window_has_closed()
    {
        var aggregator = new KlineAggregator("binance", "BTCUSDT", ["1m", "5m", "15m"]);
        aggregator.OnTrade(T(At(4, 50), 100m));
        aggregator.OnTrade(T(At(5, 10), 101m));
        var changes = aggregator.OnTrade(T(At(4, 59), 50m));

        var only = Assert.Single(changes);
        Assert.Equal("15m", only.Kline.Interval);
        Assert.Equal(50m, only.Kline.Low);
        Assert.Equal(101m, aggregator.OpenKline("1m")!.Close);
        Assert.Equal(1, aggregator.LateTrades);
        Assert.Equal((1, 1, 0), (aggregator.LateTradesFor("1m"), aggregator.LateTradesFor("5m"), aggregator.LateTradesFor("15m")));
    }

    [Fact]
    public void Out_of_order_trade_inside_the_open_window_is_kept()
    {
        var aggregator = new KlineAggregator("binance", "BTCUSDT", ["1m"]);
        aggregator.OnTrade(T(At(0, 30), 100m));
        var kline = Assert.Single(aggregator.OnTrade(T(At(0, 10), 90m))).Kline;
        Assert.Equal((100m, 90m, 2m), (kline.Open, kline.Close, kline.Volume));
        Assert.Equal(0, aggregator.LateTrades);
    }

    [Fact]
    public void A_long_gap_emits_at_most_the_configured_number_of_empty_klines()
    {
        var aggregator = new KlineAggregator("binance", "BTCUSDT", ["1m"], maxEmptyKlinesPerGap: 5);
        aggregator.OnTrade(T(At(0), 100m));
        var changes = aggregator.OnTrade(T(At(10), 100m));
        Assert.Equal(5, changes.Count(c => c.Kind == KlineChangeKind.ClosedEmpty));
        Assert.Equal(4, aggregator.SkippedEmptyKlines);
        Assert.Equal(At(10), changes[^1].Kline.OpenTime);
    }

    [Fact]
    public void Snapshot_survives_json_and_restores_the_same_future()
    {
        var original = new KlineAggregator("binance", "BTCUSDT");
        original.OnTrade(T(At(0, 1), 100m, 1m, TakerSide.Sell), 2);
        original.OnTrade(T(At(1, 1), 102m, 0.25m));
        original.OnClock(At(2, 30), TimeSpan.Zero);
        original.OnTrade(T(At(0, 5), 1m)); // late for 1m, counted

        var json = JsonSerializer.Serialize(original.Snapshot());
        var snapshot = JsonSerializer.Deserialize<KlineAggregatorSnapshot>(json)!;
        var restored = new KlineAggregator("binance", "BTCUSDT");
        restored.Restore(snapshot);

        Assert.Equal(original.LateTrades, restored.LateTrades);
        Assert.Equal(original.LateTradesFor("1m"), restored.LateTradesFor("1m"));
        var next = T(At(7, 7), 99m, 3m);
        Assert.Equal(original.OnTrade(next), restored.OnTrade(next));
        Assert.Equal(original.OnClock(At(60 * 30), TimeSpan.Zero), restored.OnClock(At(60 * 30), TimeSpan.Zero));
    }

    [Fact]
    public void Restore_rejects_snapshots_of_something_else()
    {
        var aggregator = new KlineAggregator("binance", "BTCUSDT", ["1m"]);
        var good = new Kline("binance", "BTCUSDT", "1m", At(0), At(0, 59, 999), 1m, 1m, 1m, 1m, 1m, 1m, 1, 0m, 0m, false);

        KlineAggregatorSnapshot With(params KlineIntervalSnapshot[] intervals) => new("binance", "BTCUSDT", intervals, 0);

        Assert.Throws<ArgumentException>(() => aggregator.Restore(new KlineAggregatorSnapshot("okx", "BTCUSDT", [], 0)));
        Assert.Throws<ArgumentException>(() => aggregator.Restore(With(new KlineIntervalSnapshot("5m", null, null, null, 0))));
        Assert.Throws<ArgumentException>(() => aggregator.Restore(With(new KlineIntervalSnapshot("1m", good with { OpenTime = At(0, 1) }, null, null, 0))));
        Assert.Throws<ArgumentException>(() => aggregator.Restore(With(new KlineIntervalSnapshot("1m", good with { Closed = true }, null, null, 0))));
        Assert.Throws<ArgumentException>(() => aggregator.Restore(With(new KlineIntervalSnapshot("1m", good with { High = 0.5m }, null, null, 0))));
        Assert.Throws<ArgumentException>(() => aggregator.Restore(With(new KlineIntervalSnapshot("1m", good, At(0), 1m, 0))));
        Assert.Throws<ArgumentException>(() => aggregator.Restore(With(new KlineIntervalSnapshot("1m", null, At(0), null, 0))));

        aggregator.Restore(With(new KlineIntervalSnapshot("1m", good, At(-1), 1m, 0)));
        Assert.Equal(good, aggregator.OpenKline("1m"));
    }

    [Fact]
    public void Foreign_trades_and_bad_arguments_are_refused()
    {
        var aggregator = new KlineAggregator("binance", "BTCUSDT", ["1m"]);
        Assert.Throws<ArgumentException>(() => aggregator.OnTrade(T(At(0), 1m) with { Symbol = "ETHUSDT" }));
        Assert.Throws<ArgumentException>(() => aggregator.OnTrade(T(At(0), 1m) with { Exchange = "okx" }));
        Assert.Throws<ArgumentOutOfRangeException>(() => aggregator.OnTrade(T(At(0), 1m), tradeCount: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => aggregator.OnTrade(T(At(0), 0m)));
        Assert.Throws<ArgumentOutOfRangeException>(() => aggregator.OnClock(At(0), TimeSpan.FromSeconds(-1)));
        Assert.Throws<ArgumentException>(() => new KlineAggregator("binance", "BTCUSDT", ["2m"]));
        Assert.Equal(["1m", "3m", "5m", "15m", "30m", "1h", "4h", "1d"], new KlineAggregator("okx", "ETHUSDT").Intervals);
    }

    // The kline service goes by time, not by trade id (docs/klines.md "Trade ids"): MARKET_RAW holds each trade of a
    // market once, in id order, and a restart replays from the exact stream sequence it checkpointed, so an id check
    // would drop nothing there — but it would freeze a market's klines when the exchange starts its ids over.
    [Fact]
    public void A_trade_with_an_id_below_earlier_ones_counts_in_its_open_window_so_restarted_ids_keep_their_klines()
    {
        var aggregator = new KlineAggregator("binance", "BTCUSDT", ["1m"]);
        aggregator.OnTrade(new Trade("binance", "BTCUSDT", 9_000_000, 100m, 1m, TakerSide.Buy, At(0, 10)));

        var kline = Assert.Single(aggregator.OnTrade(new Trade("binance", "BTCUSDT", 1, 102m, 2m, TakerSide.Buy, At(0, 20)))).Kline;

        Assert.Equal(102m, kline.Close);
        Assert.Equal(3m, kline.Volume);
        Assert.Equal(2, kline.Trades);
        var next = aggregator.OnTrade(new Trade("binance", "BTCUSDT", 2, 103m, 1m, TakerSide.Buy, At(1, 5)));
        Assert.Equal(3m, next[0].Kline.Volume);
        Assert.Equal(103m, next[1].Kline.Open);
    }

    [Fact]
    public void A_trade_with_a_new_id_but_the_time_of_a_closed_window_is_late_for_that_window()
    {
        var aggregator = new KlineAggregator("binance", "BTCUSDT", ["1m"]);
        aggregator.OnTrade(new Trade("binance", "BTCUSDT", 1, 100m, 1m, TakerSide.Buy, At(0, 10)));
        aggregator.OnTrade(new Trade("binance", "BTCUSDT", 2, 101m, 1m, TakerSide.Buy, At(1, 10)));

        Assert.Empty(aggregator.OnTrade(new Trade("binance", "BTCUSDT", 3, 99m, 1m, TakerSide.Buy, At(0, 30))));

        Assert.Equal(1, aggregator.LateTradesFor("1m"));
    }
}
