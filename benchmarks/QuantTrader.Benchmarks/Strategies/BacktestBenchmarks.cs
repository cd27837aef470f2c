using BenchmarkDotNet.Attributes;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Strategies.Backtesting;
using QuantTrader.Strategies.Sandbox;

namespace QuantTrader.Benchmarks.Strategies;

/// <summary>
/// Issue 6: backtest speed of the SMA-crossover example, goal ≥ 500k bars/s (≤ 2 µs per bar), over 100 000 closed
/// one-minute klines (seeded random walk; the strategy crosses, trades and fills along the way). One
/// <see cref="Backtester.Run(StrategyModule, string?, IReadOnlyList{Kline}, BacktestOptions?)"/> per pass on a module
/// compiled once ("compile once, backtest many parameter sets"), so instantiation is part of the cost.
/// Baseline: the same 100 000 klines through <see cref="StrategySandbox.OnKline(Kline)"/> of one running sandbox
/// with a do-nothing host — the strategy calls alone, so the ratio is what the simulated account, matching and
/// equity curve add.
/// </summary>
[MemoryDiagnoser]
[NoisyMachineJob]
public class BacktestBenchmarks
{
    private const int BarCount = 100_000;
    private Kline[] _klines = [];
    private StrategyEngine _engine = null!;
    private StrategyModule _module = null!;
    private StrategySandbox _sandbox = null!;
    private BacktestOptions _options = null!;

    [GlobalSetup]
    public void Setup()
    {
        _klines = StrategyData.Klines(BarCount, seed: 5);
        _engine = new StrategyEngine();
        _module = StrategyModule.Load(Fixtures.SmaCrossoverWasm, _engine);
        _options = new BacktestOptions { Engine = _engine };
        _sandbox = StrategySandbox.Create(_module, new NullHost(), null, _options.Sandbox);
        var result = Backtester.Run(_module, null, _klines, _options);
        if (result.Fault is not null || result.Fills.Count == 0)
        {
            throw new InvalidOperationException($"The SMA backtest should trade without fault: {result.Fault}, {result.Fills.Count} fills.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sandbox.Dispose();
        _module.Dispose();
        _engine.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BarCount, Description = "Baseline: sandbox OnKline over the same bars, no account")]
    public int SandboxCallsOnly()
    {
        var code = 0;
        foreach (var kline in _klines)
        {
            code |= _sandbox.OnKline(kline).ReturnCode;
        }

        return code;
    }

    [Benchmark(OperationsPerInvoke = BarCount, Description = "Backtester.Run SMA example (goal >= 500k bars/s)")]
    public int Backtest() => Backtester.Run(_module, null, _klines, _options).BarsProcessed;

    private sealed class NullHost : IStrategyHost
    {
        public decimal Position => 0m;

        public decimal QuoteBalance => 0m;

        public long PlaceOrder(StrategyOrderRequest request) => 1;

        public bool Cancel(long handle) => false;

        public void Log(string message)
        {
        }
    }
}
