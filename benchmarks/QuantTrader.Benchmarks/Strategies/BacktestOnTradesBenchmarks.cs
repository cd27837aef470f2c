using BenchmarkDotNet.Attributes;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Trading;
using QuantTrader.Strategies.Backtesting;
using QuantTrader.Strategies.Sandbox;
using QuantTrader.Trading;
using QuantTrader.Trading.Matching;

namespace QuantTrader.Benchmarks.Strategies;

/// <summary>
/// Issue 19: a backtest on stored trades through the paper engine's own matching, ledger and fees, goal ≥ 1 M prints/s
/// on one core with 100 resting orders. Prints wander within ±8 of 50 000 with fresh trade ids; every 10th trades at
/// 49 985 and partly fills the resting bids above it (0.0001 each time, so the book keeps its size).
/// <list type="bullet">
/// <item><b>Venue</b>: <see cref="BacktestVenue.OnPrint"/> — PaperExchange.OnTrade (matching, settlement into the
/// ledger and portfolio, release of ended orders) plus the backtest's fill records — with 100 buy limits resting
/// (1 huge one at 49 990 that never completes, 99 at 49 989 … 49 891), one new <c>Trade</c> per print.</item>
/// <item><b>Full run</b>: <see cref="Backtester.RunOnTrades"/> of a strategy that places a ladder of 100 buy limits
/// (49 990 − 0.5 × 1 … 100) on its first kline, over 10 000 one-minute klines and 200 000 prints (20 per bar): the
/// strategy's <c>on_kline</c> per bar, the equity curve, the fills, everything a backtest on trades does but reading
/// the database. Reported per print.</item>
/// </list>
/// Baseline: the same prints into an empty <see cref="MatchingEngine"/> (as in <c>MatchingBenchmarks</c>), so the ratio
/// is what the paper exchange, 100 resting orders and the backtest around them cost per print.
/// </summary>
[MemoryDiagnoser]
[NoisyMachineJob]
public class BacktestOnTradesBenchmarks
{
    private const int PriceCount = 4096;
    private const int Bars = 10_000;
    private const int PrintsPerBar = 20;
    private const int RunPrints = Bars * PrintsPerBar;
    private static readonly DateTimeOffset T0 = new(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly Instrument BtcUsdt = new("binance", "BTCUSDT", "BTC", "USDT", new InstrumentRules(0.01m, 0.00001m, 5m));

    /// <summary>On its first kline: 100 buy limits of 1, at close − 10.5, close − 11, … close − 60 (25 calls' worth of orders in one).</summary>
    private const string Ladder = """
        (module
          (import "qt" "place_order" (func $place (param i32 i32 f64 f64) (result i64)))
          (memory (export "memory") 1)
          (global $placed (mut i32) (i32.const 0))
          (func (export "qt_abi_version") (result i32) (i32.const 1))
          (func (export "on_kline") (param i64 f64 f64 f64) (param $close f64) (param f64) (result i32)
            (local $i i32)
            (if (i32.eqz (global.get $placed))
              (then
                (global.set $placed (i32.const 1))
                (local.set $i (i32.const 1))
                (loop $next
                  (drop (call $place (i32.const 0) (i32.const 1) (f64.const 1)
                    (f64.sub (f64.sub (local.get $close) (f64.const 10)) (f64.mul (f64.const 0.5) (f64.convert_i32_s (local.get $i))))))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br_if $next (i32.le_s (local.get $i) (i32.const 100))))))
            (i32.const 0)))
        """;

    private readonly decimal[] _prices = new decimal[PriceCount];
    private MatchingEngine _empty = null!;
    private BacktestVenue _venue = null!;
    private long _tradeId;
    private Kline[] _klines = [];
    private Trade[] _runPrints = [];
    private StrategyEngine _engine = null!;
    private StrategyModule _module = null!;
    private BacktestOptions _options = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(19);
        for (var i = 0; i < PriceCount; i++)
        {
            _prices[i] = i % 10 == 0 ? 49_985m : 50_000m + (random.Next(-800, 801) * 0.01m);
        }

        _tradeId = 1_000_000;
        _empty = new MatchingEngine(BtcUsdt);
        _venue = new BacktestVenue(BtcUsdt, FeeRates.Default, 100_000_000_000m) { Clock = T0 };
        _venue.OnPrint(new Trade("binance", "BTCUSDT", _tradeId, 50_000m, 0.001m, TakerSide.Buy, T0));
        _venue.PlaceOrder(new StrategyOrderRequest(OrderSide.Buy, OrderType.Limit, 1_000_000m, 49_990m));
        for (var i = 1; i < 100; i++)
        {
            _venue.PlaceOrder(new StrategyOrderRequest(OrderSide.Buy, OrderType.Limit, 1m, 49_990m - i));
        }

        _klines = new Kline[Bars];
        _runPrints = new Trade[RunPrints];
        for (var bar = 0; bar < Bars; bar++)
        {
            var open = T0.AddMinutes(bar);
            _klines[bar] = new Kline("binance", "BTCUSDT", "1m", open, open.AddMinutes(1).AddMilliseconds(-1),
                50_000m, 50_008m, 49_985m, 50_000m, 1m, 50_000m, PrintsPerBar, 0.5m, 25_000m, Closed: true);
            for (var p = 0; p < PrintsPerBar; p++)
            {
                var id = (bar * PrintsPerBar) + p + 1;
                _runPrints[id - 1] = new Trade("binance", "BTCUSDT", id, _prices[id & (PriceCount - 1)], 0.0001m, TakerSide.Sell,
                    open.AddMilliseconds(p * 2_000));
            }
        }

        _engine = new StrategyEngine();
        _module = StrategyModule.LoadText(Ladder, _engine);
        _options = new BacktestOptions
        {
            Engine = _engine,
            Market = BtcUsdt,
            InitialBalance = 10_000_000m,
            Sandbox = new BacktestOptions().Sandbox with { MaxOrdersPerCall = 100 },
        };

        if (_venue.Exchange.GetBook("binance", "BTCUSDT")!.OpenOrderCount != 100)
        {
            throw new InvalidOperationException("The venue should hold 100 resting orders.");
        }
        var run = Backtester.RunOnTrades(_module, null, _klines, _runPrints, _options);
        var resting = run.Orders.Count(o => o.Status is BacktestOrderStatus.Open or BacktestOrderStatus.PartiallyFilled);
        if (run.Fault is not null || run.Orders.Count != 100 || resting < 95 || run.Fills.Count < RunPrints / 20 || run.Prints != RunPrints)
        {
            throw new InvalidOperationException(
                $"The ladder run should keep ~100 orders resting and fill on 1 print in 10: {run.Fault}, {run.Orders.Count} orders, {resting} resting, {run.Fills.Count} fills, {run.Prints} prints.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _module.Dispose();
        _engine.Dispose();
    }

    [Benchmark(Baseline = true, Description = "Baseline: MatchingEngine.OnTrade on an empty book")]
    public int EmptyBook() => _empty.OnTrade(NextTrade()).Fills.Count;

    [Benchmark(Description = "BacktestVenue.OnPrint, 100 resting, 1 print in 10 fills (goal >= 1 M prints/s)")]
    public int Venue() => _venue.OnPrint(NextTrade()).Count;

    [Benchmark(OperationsPerInvoke = RunPrints, Description = "Backtester.RunOnTrades, ladder of 100 resting, 200k prints (goal >= 1 M prints/s)")]
    public long FullRun() => Backtester.RunOnTrades(_module, null, _klines, _runPrints, _options).Prints;

    private Trade NextTrade()
    {
        var id = ++_tradeId;
        return new Trade("binance", "BTCUSDT", id, _prices[id & (PriceCount - 1)], 0.0001m, TakerSide.Sell, T0.AddTicks(id * TimeSpan.TicksPerMillisecond));
    }
}
