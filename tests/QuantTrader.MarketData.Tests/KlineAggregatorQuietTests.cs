using FsCheck.Xunit;
using QuantTrader.Contracts.MarketData;
using QuantTrader.MarketData.Klines;

namespace QuantTrader.MarketData.Tests;

/// <summary>
/// <see cref="KlineAggregator.OnTradeQuiet"/> is <see cref="KlineAggregator.OnTrade(Trade, int)"/> without the
/// Updated records: same closed klines in the same order, same state afterwards (read with OpenKline).
/// </summary>
[Properties(Arbitrary = [typeof(TradeSequences)], MaxTest = 200)]
public sealed class KlineAggregatorQuietTests
{
    private static readonly DateTimeOffset Start = new(2024, 2, 28, 23, 17, 3, 250, TimeSpan.Zero);

    [Property]
    public void Quiet_feed_closes_the_same_klines_and_ends_in_the_same_state(TradeStep[] steps)
    {
        var loud = new KlineAggregator("binance", "BTCUSDT");
        var quiet = new KlineAggregator("binance", "BTCUSDT");
        var time = Start;
        for (var i = 0; i < steps.Length; i++)
        {
            var s = steps[i];
            time += TimeSpan.FromMilliseconds(s.GapMs);

            // Every fifth-count trade arrives four minutes late, so the late-trade rule is exercised too.
            var at = s.Count == 5 ? time - TimeSpan.FromMinutes(4) : time;
            var trade = new Trade("binance", "BTCUSDT", i + 1, s.PriceCents / 100m, s.QuantityUnits / 100_000_000m,
                s.TakerBuy ? TakerSide.Buy : TakerSide.Sell, at);

            var expected = loud.OnTrade(trade, s.Count).Where(c => c.Kind != KlineChangeKind.Updated);
            Assert.Equal(expected, quiet.OnTradeQuiet(trade, s.Count));
            if (s.GapMs % 7 == 0)
            {
                Assert.Equal(loud.OnClock(time, TimeSpan.FromSeconds(2)), quiet.OnClock(time, TimeSpan.FromSeconds(2)));
            }
        }

        foreach (var interval in loud.Intervals)
        {
            Assert.Equal(loud.OpenKline(interval), quiet.OpenKline(interval));
            Assert.Equal(loud.LateTradesFor(interval), quiet.LateTradesFor(interval));
        }

        Assert.Equal(loud.LateTrades, quiet.LateTrades);
        Assert.Equal(loud.SkippedEmptyKlines, quiet.SkippedEmptyKlines);
    }

    [Fact]
    public void Quiet_trade_inside_the_open_window_returns_nothing_and_updates_the_open_kline()
    {
        var aggregator = new KlineAggregator("binance", "BTCUSDT", ["1m"]);
        var t0 = new DateTimeOffset(2024, 3, 10, 12, 0, 1, TimeSpan.Zero);
        Assert.Empty(aggregator.OnTradeQuiet(new Trade("binance", "BTCUSDT", 1, 100m, 2m, TakerSide.Buy, t0)));
        Assert.Empty(aggregator.OnTradeQuiet(new Trade("binance", "BTCUSDT", 2, 90m, 1m, TakerSide.Sell, t0.AddSeconds(1)), 3));
        Assert.Equal(
            new Kline("binance", "BTCUSDT", "1m", t0.AddSeconds(-1), t0.AddSeconds(58).AddMilliseconds(999),
                100m, 100m, 90m, 90m, 3m, 290m, 4, 2m, 200m, Closed: false),
            aggregator.OpenKline("1m"));

        var closed = Assert.Single(aggregator.OnTradeQuiet(new Trade("binance", "BTCUSDT", 3, 95m, 1m, TakerSide.Buy, t0.AddMinutes(1))));
        Assert.Equal((KlineChangeKind.Closed, 90m, 4L), (closed.Kind, closed.Kline.Close, closed.Kline.Trades));
    }
}
