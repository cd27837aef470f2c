using BenchmarkDotNet.Attributes;
using QuantTrader.Contracts.MarketData;
using QuantTrader.MarketData.Klines;

namespace QuantTrader.Benchmarks.MarketData;

/// <summary>
/// Issue 4: kline aggregation, goal ≥ 5 M trades/s on one core for all 8 intervals (≤ 200 ns per trade).
/// Input: 100 000 pre-generated BTCUSDT trades, 0–40 ms apart (≈ 33 minutes, so 1m/3m/5m/15m/30m klines close along
/// the way), a seeded random walk on the 0.01 tick. A fresh aggregator per pass (trades are forward-only); its cost
/// is spread over the 100 000 trades.
/// Baseline: the same OHLCV, quote-volume, count and taker-buy accumulation for the same 8 epoch-aligned windows,
/// hand-written on structs — the arithmetic floor without the <c>Kline</c>/<c>KlineChange</c> records the
/// aggregator hands out per interval per trade.
/// </summary>
[MemoryDiagnoser]
[NoisyMachineJob]
public class KlineAggregationBenchmarks
{
    private const int TradeCount = 100_000;
    private static readonly long[] IntervalTicks = [.. KlineIntervals.All.Values.Select(v => v.Ticks)];

    private Trade[] _trades = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        var time = new DateTimeOffset(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);
        var price = 60_000m;
        _trades = new Trade[TradeCount];
        for (var i = 0; i < TradeCount; i++)
        {
            time = time.AddMilliseconds(random.Next(0, 41));
            price = Math.Max(1m, price + (random.Next(-5, 6) * 0.01m));
            var quantity = random.Next(1, 100_000) * 0.00001m;
            var side = random.Next(2) == 0 ? TakerSide.Buy : TakerSide.Sell;
            _trades[i] = new Trade("binance", "BTCUSDT", 1_000_000 + i, price, quantity, side, time);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = TradeCount, Description = "Baseline: hand-written OHLCV for 8 windows on structs")]
    public long HandWrittenOhlcv()
    {
        Span<Window> windows = stackalloc Window[IntervalTicks.Length];
        long closed = 0;
        foreach (var trade in _trades)
        {
            var ticks = trade.Time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
            for (var i = 0; i < windows.Length; i++)
            {
                ref var w = ref windows[i];
                var start = ticks - (ticks % IntervalTicks[i]);
                if (start != w.Start || w.Trades == 0)
                {
                    closed += w.Trades == 0 ? 0 : 1;
                    w = new Window { Start = start, Open = trade.Price, High = trade.Price, Low = trade.Price };
                }

                w.High = Math.Max(w.High, trade.Price);
                w.Low = Math.Min(w.Low, trade.Price);
                w.Close = trade.Price;
                var quote = trade.Price * trade.Quantity;
                w.Volume += trade.Quantity;
                w.QuoteVolume += quote;
                w.Trades++;
                if (trade.Side == TakerSide.Buy)
                {
                    w.TakerBuyVolume += trade.Quantity;
                    w.TakerBuyQuoteVolume += quote;
                }
            }
        }

        return closed + windows[0].Trades;
    }

    [Benchmark(OperationsPerInvoke = TradeCount, Description = "KlineAggregator.OnTrade, 8 intervals (goal >= 5 M trades/s)")]
    public int AllIntervals() => Run(new KlineAggregator("binance", "BTCUSDT"));

    [Benchmark(OperationsPerInvoke = TradeCount, Description = "KlineAggregator.OnTrade, 1m only (scaling reference)")]
    public int OneInterval() => Run(new KlineAggregator("binance", "BTCUSDT", ["1m"]));

    [Benchmark(OperationsPerInvoke = TradeCount, Description = "KlineAggregator.OnTradeQuiet, 8 intervals (goal >= 5 M trades/s)")]
    public int AllIntervalsQuiet()
    {
        // The kline service's hot path: only closed klines come back; open ones are read on the publish timer.
        var aggregator = new KlineAggregator("binance", "BTCUSDT");
        var closed = 0;
        foreach (var trade in _trades)
        {
            closed += aggregator.OnTradeQuiet(trade).Count;
        }

        return closed;
    }

    private int Run(KlineAggregator aggregator)
    {
        var changes = 0;
        foreach (var trade in _trades)
        {
            changes += aggregator.OnTrade(trade).Count;
        }

        return changes;
    }

    private struct Window
    {
        public long Start;
        public decimal Open;
        public decimal High;
        public decimal Low;
        public decimal Close;
        public decimal Volume;
        public decimal QuoteVolume;
        public long Trades;
        public decimal TakerBuyVolume;
        public decimal TakerBuyQuoteVolume;
    }
}
