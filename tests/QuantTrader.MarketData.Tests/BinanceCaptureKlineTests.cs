using System.Text.Json;
using QuantTrader.Contracts.MarketData;
using QuantTrader.MarketData.Klines;
using QuantTrader.MarketData.Parsing;

namespace QuantTrader.MarketData.Tests;

/// <summary>
/// Our klines against Binance's own, from the same real capture (fixtures/binance_ws). The capture starts at
/// 20:03:11, so the 20:03 minute is missing its first trades: we seed that minute with Binance's first in-progress
/// kline that ends on an aggTrade boundary (the restore path a restarting service uses) and aggregate from there.
/// The 20:04 minute is recorded from its first trade and needs no seed.
/// </summary>
public sealed class BinanceCaptureKlineTests
{
    private static readonly BinanceMessageParser Parser = new();

    [Theory]
    [InlineData("BTCUSDT")]
    [InlineData("ETHUSDT")]
    [InlineData("DOTUSDT")]
    public void Closed_kline_is_reproduced_exactly_from_aggTrades(string symbol)
    {
        var capture = SymbolCapture.Load(symbol);
        var binanceClosed = Assert.Single(capture.Klines, k => k.Kline.Closed).Kline;
        var seed = capture.Klines.First(k =>
            !k.Kline.Closed && k.Kline.OpenTime == binanceClosed.OpenTime && capture.EndsOnAggTrade(k.LastTradeId));

        var aggregator = new KlineAggregator("binance", symbol);
        aggregator.Restore(new KlineAggregatorSnapshot(
            "binance", symbol, [new KlineIntervalSnapshot("1m", seed.Kline, null, null, 0)], 0));

        var closed = new List<Kline>();
        foreach (var agg in capture.AggTrades.Where(a => a.FirstTradeId > seed.LastTradeId))
        {
            closed.AddRange(aggregator.OnTrade(agg.Parsed)
                .Where(c => c.Kline.Interval == "1m" && c.Kind != KlineChangeKind.Updated)
                .Select(c => c.Kline));
        }

        var ours = Assert.Single(closed);
        AssertSameKline(binanceClosed, ours);
        Assert.Equal(0, aggregator.LateTrades);
    }

    [Theory]
    [InlineData("BTCUSDT", 23, 20, 20)]
    [InlineData("ETHUSDT", 21, 18, 17)]
    [InlineData("DOTUSDT", 18, 15, 14)]
    public void In_progress_updates_are_reproduced_where_they_end_on_an_aggTrade(
        string symbol, int firstMinuteUpdates, int secondMinuteUpdates, int secondMinuteReproducible)
    {
        var capture = SymbolCapture.Load(symbol);
        var updates = capture.Klines.Where(k => !k.Kline.Closed).ToList();
        var minutes = updates.Select(k => k.Kline.OpenTime).Distinct().Order().ToList();
        Assert.Equal(2, minutes.Count);
        Assert.Equal(firstMinuteUpdates, updates.Count(k => k.Kline.OpenTime == minutes[0]));
        Assert.Equal(secondMinuteUpdates, updates.Count(k => k.Kline.OpenTime == minutes[1]));

        var seed = updates.First(k => capture.EndsOnAggTrade(k.LastTradeId));
        var aggregator = new KlineAggregator("binance", symbol, ["1m"]);
        aggregator.Restore(new KlineAggregatorSnapshot(
            "binance", symbol, [new KlineIntervalSnapshot("1m", seed.Kline, null, null, 0)], 0));

        // Our open 1m kline after each aggTrade, keyed by the aggTrade's last trade id.
        var afterTrade = new Dictionary<long, Kline>();
        foreach (var agg in capture.AggTrades.Where(a => a.FirstTradeId > seed.LastTradeId))
        {
            var update = Assert.Single(aggregator.OnTrade(agg.Parsed), c => c.Kind == KlineChangeKind.Updated);
            afterTrade[agg.LastTradeId] = update.Kline;
        }

        var compared = new List<CapturedKline>();
        foreach (var binance in updates.Where(k => k.LastTradeId > seed.LastTradeId))
        {
            if (afterTrade.TryGetValue(binance.LastTradeId, out var ours))
            {
                AssertSameKline(binance.Kline, ours);
                compared.Add(binance);
            }
            else
            {
                // Binance published this one while an aggTrade was still filling: it holds part of that aggTrade,
                // which no aggTrade-based aggregator can reproduce (data README).
                Assert.Contains(capture.AggTrades, a => a.FirstTradeId <= binance.LastTradeId && binance.LastTradeId < a.LastTradeId);
            }
        }

        Assert.Equal(secondMinuteReproducible, compared.Count(k => k.Kline.OpenTime == minutes[1]));
    }

    [Fact]
    public void All_51_updates_of_the_fully_recorded_minute_are_reproduced_without_a_seed()
    {
        var reproduced = 0;
        foreach (var symbol in new[] { "BTCUSDT", "ETHUSDT", "DOTUSDT" })
        {
            var capture = SymbolCapture.Load(symbol);
            var fullMinute = capture.Klines.Max(k => k.Kline.OpenTime);
            var aggregator = new KlineAggregator("binance", symbol);
            var afterTrade = new Dictionary<long, Kline>();
            foreach (var agg in capture.AggTrades)
            {
                aggregator.OnTrade(agg.Parsed);
                afterTrade[agg.LastTradeId] = aggregator.OpenKline("1m")!;
            }

            foreach (var binance in capture.Klines.Where(k => k.Kline.OpenTime == fullMinute))
            {
                if (afterTrade.TryGetValue(binance.LastTradeId, out var ours))
                {
                    AssertSameKline(binance.Kline, ours);
                    reproduced++;
                }
            }
        }

        Assert.Equal(51, reproduced);
    }

    private static void AssertSameKline(Kline expected, Kline actual)
    {
        static void Field<T>(string name, T expected, T actual)
        {
            Assert.True(EqualityComparer<T>.Default.Equals(expected, actual), $"{name}: expected {expected}, got {actual}");
        }

        Field("Exchange", expected.Exchange, actual.Exchange);
        Field("Symbol", expected.Symbol, actual.Symbol);
        Field("Interval", expected.Interval, actual.Interval);
        Field("OpenTime", expected.OpenTime, actual.OpenTime);
        Field("CloseTime", expected.CloseTime, actual.CloseTime);
        Field("Open", expected.Open, actual.Open);
        Field("High", expected.High, actual.High);
        Field("Low", expected.Low, actual.Low);
        Field("Close", expected.Close, actual.Close);
        Field("Volume", expected.Volume, actual.Volume);
        Field("QuoteVolume", expected.QuoteVolume, actual.QuoteVolume);
        Field("Trades", expected.Trades, actual.Trades);
        Field("TakerBuyVolume", expected.TakerBuyVolume, actual.TakerBuyVolume);
        Field("TakerBuyQuoteVolume", expected.TakerBuyQuoteVolume, actual.TakerBuyQuoteVolume);
        Field("Closed", expected.Closed, actual.Closed);
        Assert.Equal(expected, actual);
    }

    private sealed record CapturedAggTrade(ParsedTrade Parsed, long FirstTradeId, long LastTradeId);

    /// <summary>A Binance kline with the last exchange trade id it includes (<c>k.L</c>).</summary>
    private sealed record CapturedKline(Kline Kline, long LastTradeId);

    private sealed record SymbolCapture(IReadOnlyList<CapturedAggTrade> AggTrades, IReadOnlyList<CapturedKline> Klines)
    {
        public bool EndsOnAggTrade(long lastTradeId) => AggTrades.Any(a => a.LastTradeId == lastTradeId);

        public static SymbolCapture Load(string symbol)
        {
            var aggTrades = new List<CapturedAggTrade>();
            var klines = new List<CapturedKline>();
            foreach (var frame in Capture.Read(Capture.BinanceSpot))
            {
                using var json = JsonDocument.Parse(frame.Json);
                var data = json.RootElement.GetProperty("data");
                switch (Parser.Parse(frame.Json))
                {
                    case TradesParsed { Trades: [var trade] } when trade.Trade.Symbol == symbol:
                        aggTrades.Add(new CapturedAggTrade(trade, data.GetProperty("f").GetInt64(), data.GetProperty("l").GetInt64()));
                        break;
                    case Ignored when Parser.ParseKline(frame.Json) is KlineParsed { Kline: var kline } && kline.Symbol == symbol:
                        klines.Add(new CapturedKline(kline, data.GetProperty("k").GetProperty("L").GetInt64()));
                        break;
                }
            }

            Assert.NotEmpty(aggTrades);
            Assert.NotEmpty(klines);
            return new SymbolCapture(aggTrades, klines);
        }
    }
}
