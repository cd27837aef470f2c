using System.Text;
using QuantTrader.Contracts.Trading;
using QuantTrader.Strategies.Backtesting;
using QuantTrader.Strategies.Sandbox;
using Xunit;

namespace QuantTrader.Strategies.Tests;

/// <summary>strategies/wat/sma-crossover.wat is the AssemblyScript SMA crossover by hand: same orders, same fills.</summary>
public sealed class WatSmaCrossoverTests
{
    [Theory]
    [InlineData("""{"fast":5,"slow":20,"quantity":0.01}""")]
    [InlineData("""{"fast":3,"slow":10,"quantity":0.5}""")]
    [InlineData("""{ "slow" : 30, "fast" : 7, "quantity" : 1.25 }""")]
    public void The_wat_sma_crossover_trades_exactly_like_the_assemblyscript_one(string parameters)
    {
        var klines = Klines.Wave(600);
        var fromAssemblyScript = Backtester.Run(Strategies.SmaCrossover, parameters, klines);
        var fromWat = Backtester.Run(Encoding.UTF8.GetBytes(Strategies.SmaCrossoverWat), parameters, klines);

        Assert.Null(fromWat.Fault);
        Assert.True(fromWat.Fills.Count >= 4, $"expected several round trips, got {fromWat.Fills.Count} fills");
        Assert.Equal(fromAssemblyScript.Orders, fromWat.Orders);
        Assert.Equal(fromAssemblyScript.Fills, fromWat.Fills);
        Assert.Equal(fromAssemblyScript.EquityCurve, fromWat.EquityCurve);
    }

    [Fact]
    public void Defaults_apply_without_parameters_and_bad_ones_are_refused()
    {
        using var module = StrategyModule.LoadText(Strategies.SmaCrossoverWat);
        using (var ok = StrategySandbox.Create(module, new RecordingHost(), ""))
        {
            Assert.Equal(StrategyInstanceState.Running, ok.State);
        }
        var host = new RecordingHost();
        using var refused = StrategySandbox.Create(module, host, """{"fast":20,"slow":5}""");
        Assert.Equal(StrategyFaultReason.InitFailed, refused.Fault?.Reason);
        Assert.Contains(host.Logs, l => l.Contains("invalid parameters", StringComparison.Ordinal));
    }

    [Fact]
    public void It_buys_on_the_cross_up_and_sells_its_position_on_the_cross_down()
    {
        var closes = Enumerable.Repeat(100m, 15)
            .Concat(Enumerable.Range(1, 10).Select(i => 100m + 2m * i))
            .Concat(Enumerable.Range(1, 10).Select(i => 120m - 3m * i));
        using var module = StrategyModule.LoadText(Strategies.SmaCrossoverWat);
        var host = new RecordingHost();
        using var sandbox = StrategySandbox.Create(module, host, """{"fast":3,"slow":10,"quantity":0.5}""");
        foreach (var kline in Klines.FromCloses(closes))
        {
            host.ImmediateFillPrice = kline.Close;
            Assert.Equal(StrategyCallStatus.Ok, sandbox.OnKline(kline).Status);
        }
        Assert.Equal(
            [
                new StrategyOrderRequest(OrderSide.Buy, OrderType.Market, 0.5m, null),
                new StrategyOrderRequest(OrderSide.Sell, OrderType.Market, 0.5m, null),
            ],
            host.Orders);
    }
}
