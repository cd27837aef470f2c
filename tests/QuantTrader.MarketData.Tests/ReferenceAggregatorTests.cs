using System.Globalization;
using FsCheck.Xunit;
using QuantTrader.Contracts.MarketData;
using QuantTrader.MarketData.Klines;

namespace QuantTrader.MarketData.Tests;

/// <summary>
/// The aggregator keeps its volume sums as running sums shared by all intervals minus a per-window base; the
/// reference keeps one decimal sum per interval. Both must hand out the same klines in the same order — compared as
/// text, so a decimal with the same value but another scale ("1.50" vs "1.5") is a difference — through late trades,
/// clock closes, empty windows, quantities of varying scale and a snapshot/restore in the middle.
/// </summary>
[Properties(Arbitrary = [typeof(TradeSequences)], MaxTest = 300)]
public sealed class ReferenceAggregatorTests
{
    private static readonly DateTimeOffset Start = new(2024, 2, 28, 23, 17, 3, 250, TimeSpan.Zero);

    [Property]
    public void Running_sums_give_the_reference_klines_to_the_last_digit_and_scale(TradeStep[] steps)
    {
        var reference = new ReferenceKlineAggregator("binance", "BTCUSDT");
        var aggregator = new KlineAggregator("binance", "BTCUSDT");
        var time = Start;
        for (var i = 0; i < steps.Length; i++)
        {
            var s = steps[i];
            time += TimeSpan.FromMilliseconds(s.GapMs);
            var at = s.Count == 5 ? time - TimeSpan.FromMinutes(4) : time; // late for the short intervals
            // Quantities of every scale from 0 to 8 decimals, as exchanges send them for different markets.
            var quantity = decimal.Round(s.QuantityUnits / 100_000_000m, s.PriceCents % 9) is var q && q > 0 ? q : 1m;
            var trade = new Trade("binance", "BTCUSDT", i + 1, s.PriceCents / 100m, quantity,
                s.TakerBuy ? TakerSide.Buy : TakerSide.Sell, at);

            Assert.Equal(Text(reference.OnTrade(trade, s.Count)), Text(i % 2 == 0 ? aggregator.OnTrade(trade, s.Count) : WithOpen(aggregator, trade, s.Count)));
            if (s.GapMs % 7 == 0)
            {
                Assert.Equal(Text(reference.OnClock(time, TimeSpan.FromSeconds(2))), Text(aggregator.OnClock(time, TimeSpan.FromSeconds(2))));
            }

            if (i == steps.Length / 2)
            {
                // A restart: the restored aggregator starts its running sums at zero.
                var restored = new KlineAggregator("binance", "BTCUSDT");
                restored.Restore(aggregator.Snapshot());
                aggregator = restored;
            }
        }

        foreach (var interval in aggregator.Intervals)
        {
            Assert.Equal(Text(reference.OpenKline(interval)), Text(aggregator.OpenKline(interval)));
        }
    }

    /// <summary>The quiet path with the open klines read afterwards, in OnTrade's order.</summary>
    private static List<KlineChange> WithOpen(KlineAggregator aggregator, Trade trade, int count)
    {
        var lateBefore = aggregator.Intervals.ToDictionary(i => i, aggregator.LateTradesFor);
        var closed = aggregator.OnTradeQuiet(trade, count);
        var all = new List<KlineChange>();
        foreach (var interval in aggregator.Intervals)
        {
            all.AddRange(closed.Where(c => c.Kline.Interval == interval));
            if (aggregator.LateTradesFor(interval) == lateBefore[interval])
            {
                all.Add(new KlineChange(aggregator.OpenKline(interval)!, KlineChangeKind.Updated));
            }
        }

        return all;
    }

    private static List<string> Text(IEnumerable<KlineChange> changes) => [.. changes.Select(c => $"{c.Kind} {Text(c.Kline)}")];

    private static string Text(Kline? k) => k is null ? "none" : string.Join(' ',
        k.Interval, k.OpenTime.ToString("O", CultureInfo.InvariantCulture), k.CloseTime.ToString("O", CultureInfo.InvariantCulture),
        D(k.Open), D(k.High), D(k.Low), D(k.Close), D(k.Volume), D(k.QuoteVolume), k.Trades,
        D(k.TakerBuyVolume), D(k.TakerBuyQuoteVolume), k.Closed);

    private static string D(decimal d) => d.ToString(CultureInfo.InvariantCulture);
}
