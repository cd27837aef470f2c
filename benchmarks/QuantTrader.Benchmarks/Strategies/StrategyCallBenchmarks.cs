using BenchmarkDotNet.Attributes;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Strategies.Abi;
using QuantTrader.Strategies.Sandbox;
using Wasmtime;

namespace QuantTrader.Benchmarks.Strategies;

/// <summary>
/// Issue 6: host overhead of one <c>on_kline</c> call, goal ≤ 2× a raw Wasmtime call of the same exported function in
/// the same run. Both sides run the checked-in SMA-crossover example (<c>strategies/sma-crossover/build</c>, default
/// parameters fast 5 / slow 20) on the same engine configuration (fuel and epoch interruption compiled in), with the
/// same closes (a seeded random walk) and host imports that answer the same (flat position, order handle 1).
/// Baseline: the raw call — <c>Instance.GetFunction</c> delegate with fuel and deadline set once, no lock, no budget
/// reset, no result record. Also the <see cref="Kline"/> overload the live runner uses (decimal → double on top).
/// </summary>
[MemoryDiagnoser]
[NoisyMachineJob]
public class StrategyCallBenchmarks
{
    private const int CloseCount = 4096;
    private readonly double[] _closes = new double[CloseCount];
    private Kline[] _klines = [];
    private StrategyEngine _engine = null!;
    private StrategyModule _module = null!;
    private StrategySandbox _sandbox = null!;
    private StrategySandbox _klineSandbox = null!;
    private RawStrategy _raw = null!;
    private long _bar;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(3);
        var close = 60_000d;
        for (var i = 0; i < CloseCount; i++)
        {
            close += random.Next(-100, 101);
            _closes[i] = close;
        }

        _klines = StrategyData.Klines(CloseCount, seed: 3);
        _engine = new StrategyEngine();
        var wasm = Fixtures.SmaCrossoverWasm;
        _module = StrategyModule.Load(wasm, _engine);
        _sandbox = StrategySandbox.Create(_module, new FlatHost());
        _klineSandbox = StrategySandbox.Create(_module, new FlatHost());
        if (_sandbox.State != StrategyInstanceState.Running || _klineSandbox.State != StrategyInstanceState.Running)
        {
            throw new InvalidOperationException($"The SMA example did not start: {_sandbox.Fault}");
        }

        _raw = new RawStrategy(_engine.Engine, wasm);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _raw.Dispose();
        _sandbox.Dispose();
        _klineSandbox.Dispose();
        _module.Dispose();
        _engine.Dispose();
    }

    [Benchmark(Baseline = true, Description = "Baseline: raw Wasmtime on_kline call")]
    public int RawWasmtime()
    {
        var bar = ++_bar;
        return _raw.OnKline(bar * 60_000, _closes[bar & (CloseCount - 1)]);
    }

    [Benchmark(Description = "StrategySandbox.OnKline(raw values) (goal <= 2x baseline)")]
    public int SandboxOnKline()
    {
        var bar = ++_bar;
        var close = _closes[bar & (CloseCount - 1)];
        return _sandbox.OnKline(bar * 60_000, close, close, close, close, 1d).ReturnCode;
    }

    [Benchmark(Description = "StrategySandbox.OnKline(Kline) (runner path, decimal -> double)")]
    public int SandboxOnKlineRecord() => _klineSandbox.OnKline(_klines[++_bar & (CloseCount - 1)]).ReturnCode;

    /// <summary>A host that is always flat and accepts every order: both sides see the same answers.</summary>
    private sealed class FlatHost : IStrategyHost
    {
        public decimal Position => 0m;

        public decimal QuoteBalance => 1_000_000m;

        public long PlaceOrder(StrategyOrderRequest request) => 1;

        public bool Cancel(long handle) => false;

        public void Log(string message)
        {
        }
    }

    /// <summary>The SMA module instantiated straight on Wasmtime, with stub imports and no sandbox around it.</summary>
    private sealed class RawStrategy : IDisposable
    {
        private readonly Module _module;
        private readonly Store _store;
        private readonly Linker _linker;
        private readonly Func<long, double, double, double, double, double, int> _onKline;

        public RawStrategy(Engine engine, byte[] wasm)
        {
            _module = Module.FromBytes(engine, "sma-crossover", wasm);
            _store = new Store(engine);
            _linker = new Linker(engine);
            _linker.DefineFunction(StrategyAbi.HostModule, StrategyAbi.Imports.PlaceOrder, (int side, int type, double quantity, double price) => 1L);
            _linker.DefineFunction(StrategyAbi.HostModule, StrategyAbi.Imports.CancelOrder, (long handle) => 0);
            _linker.DefineFunction(StrategyAbi.HostModule, StrategyAbi.Imports.Position, () => 0d);
            _linker.DefineFunction(StrategyAbi.HostModule, StrategyAbi.Imports.QuoteBalance, () => 1_000_000d);
            _linker.DefineFunction(StrategyAbi.HostModule, StrategyAbi.Imports.Log, (int pointer, int length) => { });
            _linker.DefineFunction(StrategyAbi.Imports.AbortModule, StrategyAbi.Imports.Abort, (int message, int file, int line, int column) => { });
            // The engine meters fuel and checks epochs; give the raw store enough of both for the whole run, once.
            _store.Fuel = long.MaxValue / 2;
            _store.SetEpochDeadline(1_000_000_000);
            var instance = _linker.Instantiate(_store, _module);
            var init = instance.GetFunction<int, int, int>(StrategyAbi.Exports.Init)
                ?? throw new InvalidOperationException("The SMA example exports no init.");
            if (init(0, 0) != 0)
            {
                throw new InvalidOperationException("The SMA example refused its default parameters.");
            }

            _onKline = instance.GetFunction<long, double, double, double, double, double, int>(StrategyAbi.Exports.OnKline)
                ?? throw new InvalidOperationException("The SMA example exports no on_kline.");
        }

        public int OnKline(long openTimeMs, double close) => _onKline(openTimeMs, close, close, close, close, 1d);

        public void Dispose()
        {
            _linker.Dispose();
            _store.Dispose();
            _module.Dispose();
        }
    }
}

/// <summary>Closed one-minute klines on a seeded random walk, shared by the strategy benchmarks.</summary>
internal static class StrategyData
{
    public static Kline[] Klines(int count, int seed)
    {
        var random = new Random(seed);
        var start = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var close = 60_000m;
        var klines = new Kline[count];
        for (var i = 0; i < count; i++)
        {
            var open = close;
            close = Math.Max(1m, close + random.Next(-100, 101));
            var high = Math.Max(open, close) + random.Next(0, 20);
            var low = Math.Min(open, close) - random.Next(0, 20);
            var openTime = start.AddMinutes(i);
            klines[i] = new Kline("binance", "BTCUSDT", "1m", openTime, openTime.AddMinutes(1).AddMilliseconds(-1),
                open, high, low, close, 10m, 10m * close, 100, 5m, 5m * close, Closed: true);
        }

        return klines;
    }
}
