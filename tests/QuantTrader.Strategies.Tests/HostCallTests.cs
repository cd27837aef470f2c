using QuantTrader.Contracts.Trading;
using QuantTrader.Strategies.Abi;
using QuantTrader.Strategies.Sandbox;
using Xunit;

namespace QuantTrader.Strategies.Tests;

public sealed class HostCallTests
{
    /// <summary>
    /// A strategy whose on_kline places one order from its arguments (side = open, type = high, qty = low,
    /// price = close) and returns place_order's result truncated to i32, so tests can drive the host API.
    /// </summary>
    private const string OrderEcho = """
        (module
          (import "qt" "place_order" (func $place (param i32 i32 f64 f64) (result i64)))
          (memory (export "memory") 1)
          (func (export "qt_abi_version") (result i32) (i32.const 1))
          (func (export "on_kline") (param $t i64) (param $o f64) (param $h f64) (param $l f64) (param $c f64) (param $v f64) (result i32)
            (i32.wrap_i64 (call $place (i32.trunc_f64_s (local.get $o)) (i32.trunc_f64_s (local.get $h)) (local.get $l) (local.get $c)))))
        """;

    private static StrategySandbox Start(string wat, RecordingHost host, string parameters = "{}", StrategySandboxOptions? options = null)
    {
        using var module = StrategyModule.LoadText(wat);
        return StrategySandbox.Create(module, host, parameters, options);
    }

    [Fact]
    public void Parameters_round_trip_through_alloc_and_init()
    {
        // init logs the bytes it was given, proving the host wrote them where alloc said.
        const string wat = """
            (module
              (import "qt" "log" (func $log (param i32 i32)))
              (memory (export "memory") 1)
              (func (export "qt_abi_version") (result i32) (i32.const 1))
              (func (export "alloc") (param i32) (result i32) (i32.const 4096))
              (func (export "init") (param $p i32) (param $n i32) (result i32)
                (call $log (local.get $p) (local.get $n)) (i32.const 0))
              (func (export "on_kline") (param i64 f64 f64 f64 f64 f64) (result i32) (i32.const 0)))
            """;
        var host = new RecordingHost();
        using var sandbox = Start(wat, host, """{"fast":5,"name":"crossé"}""");

        Assert.Equal(StrategyInstanceState.Running, sandbox.State);
        Assert.Equal("""{"fast":5,"name":"crossé"}""", Assert.Single(host.Logs));
    }

    [Fact]
    public void Init_returning_non_zero_faults_with_init_failed()
    {
        const string wat = """
            (module
              (memory (export "memory") 1)
              (func (export "qt_abi_version") (result i32) (i32.const 1))
              (func (export "alloc") (param i32) (result i32) (i32.const 1024))
              (func (export "init") (param i32 i32) (result i32) (i32.const 7))
              (func (export "on_kline") (param i64 f64 f64 f64 f64 f64) (result i32) (i32.const 0)))
            """;
        using var sandbox = Start(wat, new RecordingHost());

        Assert.Equal(StrategyFaultReason.InitFailed, sandbox.Fault!.Reason);
        Assert.Contains("returned 7", sandbox.Fault.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Orders_cannot_be_placed_from_init()
    {
        const string wat = """
            (module
              (import "qt" "place_order" (func $place (param i32 i32 f64 f64) (result i64)))
              (memory (export "memory") 1)
              (global $fromInit (mut i64) (i64.const 0))
              (func (export "qt_abi_version") (result i32) (i32.const 1))
              (func (export "alloc") (param i32) (result i32) (i32.const 1024))
              (func (export "init") (param i32 i32) (result i32)
                (global.set $fromInit (call $place (i32.const 0) (i32.const 0) (f64.const 1) (f64.const 0)))
                (i32.const 0))
              (func (export "on_kline") (param i64 f64 f64 f64 f64 f64) (result i32)
                (i32.wrap_i64 (global.get $fromInit))))
            """;
        var host = new RecordingHost();
        using var sandbox = Start(wat, host);

        Assert.Equal((int)StrategyErrorCodes.NotAllowedNow, sandbox.OnKline(0, 1, 1, 1, 1, 1).ReturnCode);
        Assert.Empty(host.Orders);
    }

    [Fact]
    public void Orders_are_converted_to_decimal_and_rounded_to_the_instrument()
    {
        var host = new RecordingHost();
        var options = StrategySandboxOptions.Default with { Instrument = new InstrumentFilters(TickSize: 0.05m, StepSize: 0.001m) };
        using var sandbox = Start(OrderEcho, host, options: options);

        // Buy limit 0.123456 @ 100.07 → quantity down to the step, price down to the tick.
        Assert.True(sandbox.OnKline(0, StrategyAbi.SideBuy, StrategyAbi.TypeLimit, 0.123456, 100.07, 0).ReturnCode > 0);
        // Sell limit @ 100.07 → price up to the tick: never a worse price than asked.
        Assert.True(sandbox.OnKline(0, StrategyAbi.SideSell, StrategyAbi.TypeLimit, 2, 100.07, 0).ReturnCode > 0);
        // Market orders carry no price.
        Assert.True(sandbox.OnKline(0, StrategyAbi.SideSell, StrategyAbi.TypeMarket, 1.5, double.NaN, 0).ReturnCode > 0);

        Assert.Equal(
            [
                new StrategyOrderRequest(OrderSide.Buy, OrderType.Limit, 0.123m, 100.05m),
                new StrategyOrderRequest(OrderSide.Sell, OrderType.Limit, 2m, 100.10m),
                new StrategyOrderRequest(OrderSide.Sell, OrderType.Market, 1.5m, null),
            ],
            host.Orders);
    }

    [Theory]
    [InlineData(2, 0, 1.0, 0.0)]        // unknown side
    [InlineData(0, 2, 1.0, 0.0)]        // stop orders are not in ABI v1
    [InlineData(0, 0, 0.0, 0.0)]        // zero quantity
    [InlineData(0, 0, -1.0, 0.0)]       // negative quantity
    [InlineData(0, 0, double.NaN, 0.0)] // NaN quantity
    [InlineData(0, 0, 0.0004, 0.0)]     // rounds to nothing at step 0.001
    [InlineData(0, 1, 1.0, 0.0)]        // limit without a price
    [InlineData(0, 1, 1.0, double.PositiveInfinity)]
    public void Invalid_orders_are_refused_without_reaching_the_host(int side, int type, double quantity, double price)
    {
        var host = new RecordingHost();
        var options = StrategySandboxOptions.Default with { Instrument = new InstrumentFilters(0.01m, 0.001m) };
        using var sandbox = Start(OrderEcho, host, options: options);

        var result = sandbox.OnKline(0, side, type, quantity, price, 0);

        Assert.Equal((int)StrategyErrorCodes.InvalidArgument, result.ReturnCode);
        Assert.Empty(host.Orders);
        Assert.Equal(StrategyInstanceState.Running, sandbox.State);
    }

    [Fact]
    public void Orders_beyond_the_per_call_limit_are_rate_limited()
    {
        // Tries ten orders in one on_kline and returns how many were rate limited.
        const string wat = """
            (module
              (import "qt" "place_order" (func $place (param i32 i32 f64 f64) (result i64)))
              (memory (export "memory") 1)
              (func (export "qt_abi_version") (result i32) (i32.const 1))
              (func (export "on_kline") (param i64 f64 f64 f64 f64 f64) (result i32)
                (local $i i32) (local $limited i32)
                (loop $next
                  (if (i64.eq (call $place (i32.const 0) (i32.const 0) (f64.const 1) (f64.const 0)) (i64.const -2))
                    (then (local.set $limited (i32.add (local.get $limited) (i32.const 1)))))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br_if $next (i32.lt_s (local.get $i) (i32.const 10))))
                (local.get $limited)))
            """;
        var host = new RecordingHost();
        using var sandbox = Start(wat, host, options: StrategySandboxOptions.Default with { MaxOrdersPerCall = 3 });

        Assert.Equal(7, sandbox.OnKline(0, 1, 1, 1, 1, 1).ReturnCode);
        Assert.Equal(3, host.Orders.Count);
        // The budget is per call: the next kline gets three more.
        Assert.Equal(7, sandbox.OnKline(60_000, 1, 1, 1, 1, 1).ReturnCode);
        Assert.Equal(6, host.Orders.Count);
    }

    [Fact]
    public void Host_refusals_and_host_failures_are_error_codes_not_faults()
    {
        var host = new RecordingHost { OnPlace = _ => 0 };
        using var sandbox = Start(OrderEcho, host);
        Assert.Equal((int)StrategyErrorCodes.Rejected, sandbox.OnKline(0, 0, 0, 1, 0, 0).ReturnCode);

        host.OnPlace = _ => throw new InvalidOperationException("order path down");
        Assert.Equal((int)StrategyErrorCodes.HostError, sandbox.OnKline(0, 0, 0, 1, 0, 0).ReturnCode);
        Assert.Equal(StrategyInstanceState.Running, sandbox.State);
        Assert.Contains(host.Logs, l => l.Contains("place_order failed in the host", StringComparison.Ordinal));
    }

    [Fact]
    public void Position_balance_and_cancel_reach_the_host()
    {
        // Returns position + quote_balance as an integer and cancels the handle given as the open time.
        const string wat = """
            (module
              (import "qt" "position" (func $position (result f64)))
              (import "qt" "quote_balance" (func $balance (result f64)))
              (import "qt" "cancel_order" (func $cancel (param i64) (result i32)))
              (memory (export "memory") 1)
              (func (export "qt_abi_version") (result i32) (i32.const 1))
              (func (export "on_kline") (param $t i64) (param f64 f64 f64 f64 f64) (result i32)
                (drop (call $cancel (local.get $t)))
                (i32.trunc_f64_s (f64.add (call $position) (call $balance)))))
            """;
        var host = new RecordingHost { Position = 2.5m, QuoteBalance = 1000.5m };
        using var sandbox = Start(wat, host);

        Assert.Equal(1003, sandbox.OnKline(42, 1, 1, 1, 1, 1).ReturnCode);
        Assert.Equal([42L], host.Cancels);
    }

    [Fact]
    public void Log_lines_are_capped_per_call()
    {
        const string wat = """
            (module
              (import "qt" "log" (func $log (param i32 i32)))
              (memory (export "memory") 1)
              (data (i32.const 0) "tick")
              (func (export "qt_abi_version") (result i32) (i32.const 1))
              (func (export "on_kline") (param i64 f64 f64 f64 f64 f64) (result i32)
                (local $i i32)
                (loop $next
                  (call $log (i32.const 0) (i32.const 4))
                  (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br_if $next (i32.lt_s (local.get $i) (i32.const 100))))
                (i32.const 0)))
            """;
        var host = new RecordingHost();
        using var sandbox = Start(wat, host, options: StrategySandboxOptions.Default with { MaxLogsPerCall = 5 });

        sandbox.OnKline(0, 1, 1, 1, 1, 1);

        Assert.Equal(6, host.Logs.Count);
        Assert.All(host.Logs.Take(5), l => Assert.Equal("tick", l));
        Assert.StartsWith("[95 log line(s) dropped", host.Logs[5], StringComparison.Ordinal);
    }

    [Fact]
    public void Fuel_per_call_is_deterministic()
    {
        using var module = StrategyModule.Load(Strategies.SmaCrossover);
        var fuel = new List<ulong>[2];
        for (var run = 0; run < 2; run++)
        {
            using var sandbox = StrategySandbox.Create(module, new RecordingHost(), """{"fast":3,"slow":8,"quantity":1}""");
            fuel[run] = Klines.Wave(50).Select(k => sandbox.OnKline(k).FuelUsed).ToList();
        }
        Assert.Equal(fuel[0], fuel[1]);
        Assert.All(fuel[0], f => Assert.True(f > 0));
    }
}
