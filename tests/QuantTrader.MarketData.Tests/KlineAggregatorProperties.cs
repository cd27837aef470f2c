using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using QuantTrader.Contracts.MarketData;
using QuantTrader.MarketData.Klines;

namespace QuantTrader.MarketData.Tests;

/// <summary>One generated trade: time since the previous one, price in cents, quantity in 1e-8 units.</summary>
public sealed record TradeStep(int GapMs, int PriceCents, int QuantityUnits, bool TakerBuy, int Count);

public static class TradeSequences
{
    /// <summary>
    /// Mostly dense trading (gaps of seconds), some pauses of minutes (empty 1m/3m/5m windows) and a few of hours
    /// (empty windows up to 4h). Always in time order; several trades can share a millisecond.
    /// </summary>
    public static Arbitrary<TradeStep[]> Steps()
    {
        var gap = Gen.Frequency(
            (8, Gen.Choose(0, 5_000)),
            (3, Gen.Choose(0, 400_000)),
            (1, Gen.Choose(0, 20_000_000)));
        var step =
            from g in gap
            from price in Gen.Choose(1, 10_000_000)
            from quantity in Gen.Choose(1, 100_000_000)
            from buy in Gen.Elements(true, false)
            from count in Gen.Choose(1, 5)
            select new TradeStep(g, price, quantity, buy, count);
        return Gen.ArrayOf(step).ToArbitrary();
    }
}

[Properties(Arbitrary = [typeof(TradeSequences)], MaxTest = 200)]
public sealed class KlineAggregatorProperties
{
    private static readonly DateTimeOffset Start = new(2024, 2, 28, 23, 17, 3, 250, TimeSpan.Zero);

    private static List<Trade> Trades(TradeStep[] steps)
    {
        var trades = new List<Trade>(steps.Length);
        var time = Start;
        for (var i = 0; i < steps.Length; i++)
        {
            var s = steps[i];
            time += TimeSpan.FromMilliseconds(s.GapMs);
            trades.Add(new Trade("binance", "BTCUSDT", i + 1, s.PriceCents / 100m, s.QuantityUnits / 100_000_000m,
                s.TakerBuy ? TakerSide.Buy : TakerSide.Sell, time));
        }

        return trades;
    }

    private static List<KlineChange> Feed(KlineAggregator aggregator, IEnumerable<(Trade Trade, int Count)> trades)
    {
        var changes = new List<KlineChange>();
        foreach (var (trade, count) in trades)
        {
            changes.AddRange(aggregator.OnTrade(trade, count));
        }

        return changes;
    }

    private static List<(Trade, int)> WithCounts(TradeStep[] steps) =>
        [.. Trades(steps).Zip(steps, (t, s) => (t, s.Count))];

    /// <summary>The final klines of each interval: everything closed, then whatever is still open.</summary>
    private static Dictionary<string, List<Kline>> Final(KlineAggregator aggregator, List<KlineChange> changes) =>
        aggregator.Intervals.ToDictionary(
            i => i,
            i => changes.Where(c => c.Kline.Interval == i && c.Kind != KlineChangeKind.Updated).Select(c => c.Kline)
                .Concat(aggregator.OpenKline(i) is { } open ? [open] : [])
                .ToList());

    [Property]
    public void Every_interval_accounts_for_every_trade_exactly(TradeStep[] steps)
    {
        var trades = WithCounts(steps);
        var aggregator = new KlineAggregator("binance", "BTCUSDT");
        var final = Final(aggregator, Feed(aggregator, trades));

        var volume = trades.Sum(t => t.Item1.Quantity);
        var quote = trades.Sum(t => t.Item1.Price * t.Item1.Quantity);
        var takerBuy = trades.Where(t => t.Item1.Side == TakerSide.Buy).Sum(t => t.Item1.Quantity);
        var count = trades.Sum(t => (long)t.Item2);
        foreach (var (interval, klines) in final)
        {
            Assert.Equal(volume, klines.Sum(k => k.Volume));
            Assert.Equal(quote, klines.Sum(k => k.QuoteVolume));
            Assert.Equal(takerBuy, klines.Sum(k => k.TakerBuyVolume));
            Assert.Equal(count, klines.Sum(k => k.Trades));
        }

        Assert.Equal(final["1m"].Sum(k => k.Volume), final["5m"].Sum(k => k.Volume));
        Assert.Equal(0, aggregator.LateTrades);
    }

    [Property]
    public void Klines_are_valid_candles_in_contiguous_windows(TradeStep[] steps)
    {
        var aggregator = new KlineAggregator("binance", "BTCUSDT");
        var changes = Feed(aggregator, WithCounts(steps));
        foreach (var kline in changes.Select(c => c.Kline))
        {
            Assert.True(kline.High >= Math.Max(kline.Open, kline.Close), $"high below body: {kline}");
            Assert.True(kline.Low <= Math.Min(kline.Open, kline.Close), $"low above body: {kline}");
            Assert.True(kline.TakerBuyVolume <= kline.Volume && kline.TakerBuyQuoteVolume <= kline.QuoteVolume);
            Assert.Equal(kline.OpenTime + KlineIntervals.All[kline.Interval] - TimeSpan.FromMilliseconds(1), kline.CloseTime);
        }

        foreach (var (interval, klines) in Final(aggregator, changes))
        {
            var length = KlineIntervals.All[interval];
            for (var i = 1; i < klines.Count; i++)
            {
                Assert.Equal(klines[i - 1].OpenTime + length, klines[i].OpenTime);
                Assert.True(klines[i - 1].Closed);
                if (klines[i].Volume == 0)
                {
                    var previousClose = klines[i - 1].Close;
                    Assert.Equal((previousClose, previousClose, previousClose, previousClose),
                        (klines[i].Open, klines[i].High, klines[i].Low, klines[i].Close));
                }
            }
        }
    }

    [Property]
    public void Replaying_the_same_trades_gives_identical_klines(TradeStep[] steps)
    {
        var trades = WithCounts(steps);
        var first = new KlineAggregator("binance", "BTCUSDT");
        var second = new KlineAggregator("binance", "BTCUSDT");
        Assert.Equal(Feed(first, trades), Feed(second, trades));
        Assert.Equal(JsonSerializer.Serialize(first.Snapshot()), JsonSerializer.Serialize(second.Snapshot()));
    }

    [Property]
    public void Snapshot_and_restore_in_the_middle_changes_nothing(TradeStep[] steps, NonNegativeInt splitSeed)
    {
        var trades = WithCounts(steps);
        var split = splitSeed.Get % (trades.Count + 1);

        var whole = new KlineAggregator("binance", "BTCUSDT");
        var expected = Feed(whole, trades);

        var before = new KlineAggregator("binance", "BTCUSDT");
        var actual = Feed(before, trades.Take(split));
        var saved = JsonSerializer.Deserialize<KlineAggregatorSnapshot>(JsonSerializer.Serialize(before.Snapshot()))!;
        var after = new KlineAggregator("binance", "BTCUSDT");
        after.Restore(saved);
        actual.AddRange(Feed(after, trades.Skip(split)));

        Assert.Equal(expected, actual);
        var end = Start + TimeSpan.FromDays(2);
        Assert.Equal(whole.OnClock(end, TimeSpan.Zero), after.OnClock(end, TimeSpan.Zero));
    }

    [Property]
    public void Clock_past_the_end_closes_everything_without_losing_volume(TradeStep[] steps, PositiveInt latenessSeconds)
    {
        var trades = WithCounts(steps);
        var aggregator = new KlineAggregator("binance", "BTCUSDT");
        var changes = Feed(aggregator, trades);
        var lateness = TimeSpan.FromSeconds(latenessSeconds.Get % 120);
        var last = trades.Count == 0 ? Start : trades[^1].Item1.Time;
        changes.AddRange(aggregator.OnClock(last + TimeSpan.FromDays(1) + lateness, lateness));

        var total = trades.Sum(t => t.Item1.Quantity);
        foreach (var interval in aggregator.Intervals)
        {
            Assert.Null(aggregator.OpenKline(interval));
            Assert.Equal(total, changes.Where(c => c.Kline.Interval == interval && c.Kline.Closed).Sum(c => c.Kline.Volume));
        }
    }
}
