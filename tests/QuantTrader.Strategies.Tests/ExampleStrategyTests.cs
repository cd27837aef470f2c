using QuantTrader.Contracts.Trading;
using QuantTrader.Strategies.Sandbox;
using Xunit;

namespace QuantTrader.Strategies.Tests;

/// <summary>The AssemblyScript examples, built by strategies/build.sh, through the real ABI.</summary>
public sealed class ExampleStrategyTests
{
    private static (RecordingHost Host, StrategySandbox Sandbox) Run(byte[] wasm, string parameters, IEnumerable<decimal> closes)
    {
        using var module = StrategyModule.Load(wasm);
        var host = new RecordingHost();
        var sandbox = StrategySandbox.Create(module, host, parameters);
        Assert.Equal(StrategyInstanceState.Running, sandbox.State);
        foreach (var kline in Klines.FromCloses(closes))
        {
            // Fills happen at once in this host, so the strategy sees its new position on the next kline.
            host.ImmediateFillPrice = kline.Close;
            Assert.Equal(StrategyCallStatus.Ok, sandbox.OnKline(kline).Status);
        }
        return (host, sandbox);
    }

    [Fact]
    public void Sma_crossover_buys_on_the_cross_up_and_sells_on_the_cross_down()
    {
        // Flat (no cross), then a rally (fast SMA crosses above slow), then a slide (crosses back below).
        var closes = Enumerable.Repeat(100m, 15)
            .Concat(Enumerable.Range(1, 10).Select(i => 100m + 2m * i))
            .Concat(Enumerable.Range(1, 10).Select(i => 120m - 3m * i));

        var (host, sandbox) = Run(Strategies.SmaCrossover, """{"fast":3,"slow":10,"quantity":0.5}""", closes);
        using (sandbox)
        {
            Assert.Equal(
                [
                    new StrategyOrderRequest(OrderSide.Buy, OrderType.Market, 0.5m, null),
                    new StrategyOrderRequest(OrderSide.Sell, OrderType.Market, 0.5m, null),
                ],
                host.Orders);
            Assert.Contains("sma-crossover: fast=3 slow=10", host.Logs);
        }
    }

    [Fact]
    public void Sma_crossover_places_nothing_on_a_flat_market()
    {
        var (host, sandbox) = Run(Strategies.SmaCrossover, """{"fast":3,"slow":10,"quantity":0.5}""", Enumerable.Repeat(100m, 40));
        using (sandbox)
        {
            Assert.Empty(host.Orders);
        }
    }

    [Fact]
    public void Rsi_mean_reversion_buys_the_dip_and_sells_the_recovery()
    {
        // Chop (RSI ≈ 50), a sharp dip (RSI → 0, oversold), then a recovery (RSI → 100, overbought).
        var closes = Enumerable.Range(0, 12).Select(i => i % 2 == 0 ? 100m : 101m)
            .Concat(Enumerable.Range(1, 6).Select(i => 101m - 2m * i))
            .Concat(Enumerable.Range(1, 8).Select(i => 89m + 2m * i));

        var (host, sandbox) = Run(Strategies.RsiMeanReversion, """{"period":5,"oversold":30,"overbought":70,"quantity":1}""", closes);
        using (sandbox)
        {
            Assert.Equal(
                [
                    new StrategyOrderRequest(OrderSide.Buy, OrderType.Market, 1m, null),
                    new StrategyOrderRequest(OrderSide.Sell, OrderType.Market, 1m, null),
                ],
                host.Orders);
        }
    }

    [Fact]
    public void Examples_refuse_bad_parameters_with_init_failed()
    {
        using var module = StrategyModule.Load(Strategies.SmaCrossover);
        var host = new RecordingHost();
        using var sandbox = StrategySandbox.Create(module, host, """{"fast":20,"slow":10}""");

        Assert.Equal(StrategyFaultReason.InitFailed, sandbox.Fault!.Reason);
        Assert.Contains(host.Logs, l => l.Contains("invalid parameters", StringComparison.Ordinal));
    }

    [Fact]
    public void Examples_get_their_fills_through_on_fill()
    {
        using var module = StrategyModule.Load(Strategies.RsiMeanReversion);
        var host = new RecordingHost();
        using var sandbox = StrategySandbox.Create(module, host, "{}");

        var result = sandbox.OnFill(new StrategyFill(7, OrderSide.Buy, 101.5m, 0.25m, 0.01m));

        Assert.Equal(StrategyCallStatus.Ok, result.Status);
        Assert.Contains("bought 0.25 @ 101.5", host.Logs);
    }

    [Fact]
    public void Buy_and_hold_matches_the_worked_example_in_the_abi_doc()
    {
        using var module = StrategyModule.LoadText(Strategies.BuyAndHold);
        var host = new RecordingHost { QuoteBalance = 10_000m };
        var options = StrategySandboxOptions.Default with { Instrument = new InstrumentFilters(0.01m, 0.001m) };
        using var sandbox = StrategySandbox.Create(module, host, "{}", options);

        sandbox.OnKline(1704067200000, 100.0, 101.9, 99.8, 101.37, 12.5);
        sandbox.OnKline(1704067260000, 101.37, 102, 101, 101.5, 3);

        Assert.Equal(new StrategyOrderRequest(OrderSide.Buy, OrderType.Market, 97.662m, null), Assert.Single(host.Orders));
        Assert.Equal(["buy-and-hold: bought"], host.Logs);
    }

    [Fact]
    public void AssemblyScript_abort_faults_with_its_message()
    {
        // An AssemblyScript string: byte length at ptr-4, UTF-16LE text at ptr ("boom" at 12).
        const string wat = """
            (module
              (import "env" "abort" (func $abort (param i32 i32 i32 i32)))
              (memory (export "memory") 1)
              (data (i32.const 8) "\08\00\00\00b\00o\00o\00m\00")
              (func (export "qt_abi_version") (result i32) (i32.const 1))
              (func (export "on_kline") (param i64 f64 f64 f64 f64 f64) (result i32)
                (call $abort (i32.const 12) (i32.const 0) (i32.const 3) (i32.const 7))
                (i32.const 0)))
            """;
        using var module = StrategyModule.LoadText(wat);
        using var sandbox = StrategySandbox.Create(module, new RecordingHost());

        sandbox.OnKline(0, 1, 1, 1, 1, 1);

        Assert.Equal(StrategyFaultReason.Trap, sandbox.Fault!.Reason);
        Assert.Equal("abort: boom at ?:3:7", sandbox.Fault.Message);
    }
}
