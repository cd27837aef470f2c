using QuantTrader.Contracts.Trading;
using QuantTrader.Strategies.Backtesting;
using QuantTrader.Strategies.Sandbox;
using QuantTrader.Trading;
using QuantTrader.Trading.Accounts;
using Xunit;

namespace QuantTrader.Strategies.Tests;

public sealed class BacktesterTests
{
    private const string SmaParameters = """{"fast":5,"slow":20,"quantity":1}""";

    [Fact]
    public void Same_inputs_give_byte_identical_results()
    {
        var klines = Klines.Wave(3000);
        var options = new BacktestOptions { InitialBalance = 1000m, Fees = new FeeRates(0.00075m, 0.00075m), Instrument = new InstrumentFilters(0.01m, 0.0001m) };

        var first = Backtester.Run(Strategies.SmaCrossover, SmaParameters, klines, options);
        var second = Backtester.Run(Strategies.SmaCrossover, SmaParameters, klines, options);

        Assert.Null(first.Fault);
        Assert.Equal(3000, first.BarsProcessed);
        Assert.True(first.Fills.Count >= 10, $"expected a busy run, got {first.Fills.Count} fills");
        Assert.Equal(3000, first.EquityCurve.Count);
        Assert.Equal(first.ToCanonicalJson(), second.ToCanonicalJson());
    }

    [Fact]
    public void Market_orders_fill_on_the_next_bar_open_print_as_takers_with_the_fee()
    {
        // 400 per bar: each of a bar's four prints offers 100, enough for the whole order.
        var klines = Klines.FromCloses([100m, 110m, 120m], volume: 400m);
        // Without the paper engine's 5 % market-buy margin, so that 99 % of the balance can be locked.
        var result = Backtester.Run(System.Text.Encoding.UTF8.GetBytes(Strategies.BuyAndHold), "{}", klines,
            new BacktestOptions { InitialBalance = 10_000m, Fees = new FeeRates(0.0005m, 0.001m), Reservations = new ReservationPolicy(0m) });

        // Bought on bar 0 (99% of 10 000 at close 100 = 99), filled on bar 1's open print (id 5, price = bar 0's close, 100).
        var fill = Assert.Single(result.Fills);
        Assert.Equal(new BacktestFill(1, klines[1].OpenTime, OrderSide.Buy, OrderType.Market, 100m, 99m, 9.9m, Liquidity.Taker, 5), fill);
        Assert.Equal(BacktestSource.Klines, result.Source);
        Assert.Equal(10_000m, result.EquityCurve[0].Equity);
        Assert.Equal(90.1m + 99m * 110m, result.EquityCurve[1].Equity);
        Assert.Equal(90.1m, result.FinalQuoteBalance);
        Assert.Equal(99m, result.FinalPosition);
        Assert.Equal(90.1m + 99m * 120m, result.FinalEquity);
        Assert.Equal(BacktestOrderStatus.Filled, Assert.Single(result.Orders).Status);
    }

    [Fact]
    public void Limit_orders_rest_until_a_print_of_a_bar_reaches_them_and_fill_at_their_limit_as_makers()
    {
        // Places one buy limit 5 below the first close and holds it.
        const string wat = """
            (module
              (import "qt" "place_order" (func $place (param i32 i32 f64 f64) (result i64)))
              (memory (export "memory") 1)
              (global $placed (mut i32) (i32.const 0))
              (func (export "qt_abi_version") (result i32) (i32.const 1))
              (func (export "on_kline") (param i64 f64 f64 f64) (param $close f64) (param f64) (result i32)
                (if (i32.eqz (global.get $placed))
                  (then
                    (global.set $placed (i32.const 1))
                    (drop (call $place (i32.const 0) (i32.const 1) (f64.const 1) (f64.sub (local.get $close) (f64.const 5))))))
                (i32.const 0)))
            """;
        // Lows: bar1 98.505, bar2 96.515, bar3 93.53 (first at or below 95), opening at 97.
        var klines = Klines.FromCloses([100m, 99m, 97m, 94m, 96m]);

        var result = Backtester.Run(System.Text.Encoding.UTF8.GetBytes(wat), null, klines, new BacktestOptions { Fees = new FeeRates(0.0002m, 0.001m) });

        // Bar 3 fell (97 → 94), so its prints go open → high → low → close: the low is the third, two thirds in.
        var fill = Assert.Single(result.Fills);
        Assert.Equal(klines[3].OpenTime + ((klines[3].CloseTime - klines[3].OpenTime) * 2 / 3), fill.Time);
        Assert.Equal(95m, fill.Price);
        Assert.Equal(Liquidity.Maker, fill.Liquidity);
        Assert.Equal(95m * 0.0002m, fill.Fee);
    }

    [Fact]
    public void Orders_the_paper_engine_cannot_lock_funds_for_are_rejected_when_placed()
    {
        var klines = Klines.FromCloses([100m, 100m]);
        // A market buy locks its quantity × last price × 1.05 (the paper engine's margin) × (1 + fee): 99 % of the balance is too much.
        var result = Backtester.Run(System.Text.Encoding.UTF8.GetBytes(Strategies.BuyAndHold), "{}", klines,
            new BacktestOptions { InitialBalance = 1000m });

        Assert.Empty(result.Fills);
        var order = Assert.Single(result.Orders);
        Assert.Equal(BacktestOrderStatus.Rejected, order.Status);
        Assert.StartsWith("Insufficient QUOTE", order.RejectReason, StringComparison.Ordinal);
        Assert.Equal(1000m, result.FinalEquity);
    }

    [Fact]
    public void A_faulting_strategy_ends_the_run_with_the_fault_instead_of_throwing()
    {
        var result = Backtester.Run(System.Text.Encoding.UTF8.GetBytes(Strategies.Hostile("infinite-loop")), null, Klines.Wave(10),
            new BacktestOptions { Sandbox = StrategySandboxOptions.Default with { FuelPerCall = 100_000 } });

        Assert.Equal(StrategyFaultReason.Fuel, result.Fault!.Reason);
        Assert.Equal(1, result.BarsProcessed);
        Assert.Empty(result.Fills);
    }

    [Fact]
    public void Unclosed_or_unordered_klines_are_refused()
    {
        var klines = Klines.Wave(3);
        var open = klines.Take(2).Append(klines[2] with { Closed = false }).ToList();
        var unordered = new[] { klines[1], klines[0] };

        Assert.Throws<ArgumentException>(() => Backtester.Run(Strategies.SmaCrossover, SmaParameters, open));
        Assert.Throws<ArgumentException>(() => Backtester.Run(Strategies.SmaCrossover, SmaParameters, unordered));
    }
}
