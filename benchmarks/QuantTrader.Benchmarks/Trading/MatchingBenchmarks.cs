using BenchmarkDotNet.Attributes;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Trading;
using QuantTrader.Trading;
using QuantTrader.Trading.Matching;
using QuantTrader.Trading.Orders;

namespace QuantTrader.Benchmarks.Trading;

/// <summary>
/// Issue 5: matching throughput, goal ≥ 1 M trades/s against 100k resting orders on one core (≤ 1 µs per print).
/// Book: 50 000 buy limits between 30 000 and 40 000 and 50 000 sell limits between 60 000 and 70 000 (BTCUSDT),
/// plus, for the fill variant, one large buy at 49 990 and one large sell at 50 010. Prints wander around 50 000 with a
/// fresh trade id each (the engine de-duplicates ids, so a replayed id would measure the cheap duplicate path).
/// Each print is a new <c>Trade</c> record, as it is when it arrives from the bus.
/// Baseline: the same prints into an empty book — what the per-print bookkeeping (market check, id de-duplication,
/// last price) costs before any resting order is looked at, so the ratio is the price of 100k resting orders.
/// </summary>
[MemoryDiagnoser]
[NoisyMachineJob]
public class MatchingBenchmarks
{
    private const int RestingPerSide = 50_000;
    private const int PriceCount = 4096;
    private static readonly DateTimeOffset T0 = new(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly Instrument BtcUsdt = new("binance", "BTCUSDT", "BTC", "USDT", new InstrumentRules(0.01m, 0.00001m, 5m));

    private readonly decimal[] _prices = new decimal[PriceCount];
    private readonly decimal[] _fillingPrices = new decimal[PriceCount];
    private MatchingEngine _empty = null!;
    private MatchingEngine _resting = null!;
    private MatchingEngine _restingWithTopOfBook = null!;
    private long _tradeId;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(11);
        for (var i = 0; i < PriceCount; i++)
        {
            // Within ±8 of 50 000: never reaches 49 990 or 50 010.
            _prices[i] = 50_000m + (random.Next(-800, 801) * 0.01m);
            // Every 10th print trades through the top bid and fills (part of) it; the rest reach nothing.
            _fillingPrices[i] = i % 10 == 0 ? 49_985m : _prices[i];
        }

        _tradeId = 1_000_000;
        _empty = new MatchingEngine(BtcUsdt);
        _resting = Book(withTopOfBook: false);
        _restingWithTopOfBook = Book(withTopOfBook: true);
    }

    [Benchmark(Baseline = true, Description = "Baseline: OnTrade on an empty book")]
    public int EmptyBook() => _empty.OnTrade(NextTrade(_prices)).Fills.Count;

    [Benchmark(Description = "OnTrade, 100k resting, prints reach none (goal >= 1 M trades/s)")]
    public int RestingNoneReached() => _resting.OnTrade(NextTrade(_prices)).Fills.Count;

    [Benchmark(Description = "OnTrade, 100k resting, 1 print in 10 fills the top bid (goal >= 1 M trades/s)")]
    public int RestingSomeFilled() => _restingWithTopOfBook.OnTrade(NextTrade(_fillingPrices)).Fills.Count;

    private Trade NextTrade(decimal[] prices)
    {
        var id = ++_tradeId;
        return new Trade("binance", "BTCUSDT", id, prices[id & (PriceCount - 1)], 0.001m, TakerSide.Sell, T0.AddTicks(id * TimeSpan.TicksPerMillisecond));
    }

    private MatchingEngine Book(bool withTopOfBook)
    {
        var engine = new MatchingEngine(BtcUsdt);
        engine.OnTrade(new Trade("binance", "BTCUSDT", _tradeId, 50_000m, 0.001m, TakerSide.Buy, T0));
        var sequence = 0;
        for (var i = 0; i < RestingPerSide; i++)
        {
            engine.Submit(Limit(++sequence, OrderSide.Buy, 30_000m + (i * 0.2m), 0.01m), FeeRates.Default);
            engine.Submit(Limit(++sequence, OrderSide.Sell, 60_000m + (i * 0.2m), 0.01m), FeeRates.Default);
        }

        if (withTopOfBook)
        {
            // Large enough never to fill completely during a run, so the book stays the same size.
            engine.Submit(Limit(++sequence, OrderSide.Buy, 49_990m, 1_000_000m), FeeRates.Default);
            engine.Submit(Limit(++sequence, OrderSide.Sell, 50_010m, 1_000_000m), FeeRates.Default);
        }

        if (engine.OpenOrderCount != sequence)
        {
            throw new InvalidOperationException($"Expected {sequence} resting orders, the book has {engine.OpenOrderCount}.");
        }

        return engine;
    }

    private static OrderRequest Limit(int sequence, OrderSide side, decimal price, decimal quantity) =>
        new(new Guid(sequence, 0, 0, new byte[8]), new Guid(1, 0, 0, new byte[8]), null, null, "binance", "BTCUSDT",
            side, OrderType.Limit, TimeInForce.Gtc, quantity, price, null, T0);
}
