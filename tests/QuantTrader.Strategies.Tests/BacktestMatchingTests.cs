using System.Text;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Trading;
using QuantTrader.Strategies.Backtesting;
using QuantTrader.Strategies.Sandbox;
using QuantTrader.Trading;
using QuantTrader.Trading.Orders;
using Xunit;

namespace QuantTrader.Strategies.Tests;

/// <summary>Backtests fill with the paper engine's own matching, ledger and fees (docs/matching.md), print by print.</summary>
public sealed class BacktestMatchingTests
{
    private static readonly DateTimeOffset T0 = Klines.Start;
    private static readonly Instrument BtcUsdt = new("binance", "BTCUSDT", "BTC", "USDT", new InstrumentRules(0.01m, 0.0001m, 0m));
    private static readonly FeeRates Fees = new(Maker: 0.0002m, Taker: 0.001m);

    /// <summary>On the first kline: one buy limit of 1 at 5 below the close, then nothing.</summary>
    private const string BuyLimitBelowFirstClose = """
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

    private static Trade Print(long id, decimal price, decimal quantity, int second) =>
        new("binance", "BTCUSDT", id, price, quantity, TakerSide.Sell, T0.AddSeconds(second));

    private static BacktestVenue Venue(decimal balance = 10_000m)
    {
        var venue = new BacktestVenue(BtcUsdt, Fees, balance) { Clock = T0 };
        venue.OnPrint(Print(1, 100m, 1m, 0)); // the last price every order below is placed against
        return venue;
    }

    [Fact]
    public void A_backtest_on_trades_fills_a_resting_limit_print_by_print_taking_only_what_each_print_offers()
    {
        var klines = Klines.FromCloses([100m, 96m, 97m]);
        Trade[] trades =
        [
            Print(1, 100m, 1m, 30),     // bar 0; the strategy then bids 1 @ 95
            Print(2, 96m, 5m, 70),      // bar 1: above the limit
            Print(3, 95m, 0.3m, 80),    // at the limit: 0.3 of 1
            Print(4, 94.5m, 0.5m, 90),  // through it: 0.5 more, at the limit
            Print(5, 95.5m, 9m, 100),   // above again
            Print(6, 95m, 4m, 130),     // bar 2: the last 0.2
            Print(7, 95m, 4m, 140),
        ];
        using var module = StrategyModule.LoadText(BuyLimitBelowFirstClose);

        var result = Backtester.RunOnTrades(module, null, klines, trades, new BacktestOptions { Fees = Fees, Market = BtcUsdt });

        Assert.Null(result.Fault);
        Assert.Equal(
            [
                new BacktestFill(1, T0.AddSeconds(80), OrderSide.Buy, OrderType.Limit, 95m, 0.3m, 95m * 0.3m * 0.0002m, Liquidity.Maker, 3),
                new BacktestFill(1, T0.AddSeconds(90), OrderSide.Buy, OrderType.Limit, 95m, 0.5m, 95m * 0.5m * 0.0002m, Liquidity.Maker, 4),
                new BacktestFill(1, T0.AddSeconds(130), OrderSide.Buy, OrderType.Limit, 95m, 0.2m, 95m * 0.2m * 0.0002m, Liquidity.Maker, 6),
            ],
            result.Fills);
        var order = Assert.Single(result.Orders);
        Assert.Equal((BacktestOrderStatus.Filled, 1m, 95m), (order.Status, order.FilledQuantity, order.AveragePrice));
        Assert.Equal(1m, result.FinalPosition);
        Assert.Equal(10_000m - 95m - (95m * 0.0002m), result.FinalQuoteBalance);
    }

    [Fact]
    public void The_result_says_whether_it_ran_on_trades_or_on_klines()
    {
        var klines = Klines.FromCloses([100m, 101m, 102m]);
        using var module = StrategyModule.LoadText(BuyLimitBelowFirstClose);

        var onKlines = Backtester.Run(module, null, klines);
        var onTrades = Backtester.RunOnTrades(module, null, klines, [Print(1, 100m, 1m, 10), Print(2, 101m, 1m, 70)]);

        Assert.Equal((BacktestSource.Klines, 12L), (onKlines.Source, onKlines.Prints));
        Assert.Equal((BacktestSource.Trades, 2L), (onTrades.Source, onTrades.Prints));
        Assert.Contains("\"source\":\"klines\"", Encoding.UTF8.GetString(onKlines.ToCanonicalJson()), StringComparison.Ordinal);
        Assert.Contains("\"source\":\"trades\"", Encoding.UTF8.GetString(onTrades.ToCanonicalJson()), StringComparison.Ordinal);
    }

    [Fact]
    public void A_buy_stop_triggers_on_a_print_at_its_stop_and_fills_from_the_next_print_as_a_taker()
    {
        var venue = Venue();
        var handle = venue.PlaceOrder(new StrategyOrderRequest(OrderSide.Buy, OrderType.StopMarket, 1m, null, StopPrice: 105m));

        Assert.Empty(venue.OnPrint(Print(2, 103m, 5m, 1)));
        Assert.Empty(venue.OnPrint(Print(3, 105m, 5m, 2))); // triggers; the triggering print has already happened
        var fill = Assert.Single(venue.OnPrint(Print(4, 107m, 5m, 3)));

        Assert.Equal(new StrategyFill(handle, OrderSide.Buy, 107m, 1m, 107m * 0.001m), fill);
        Assert.Equal(Liquidity.Taker, Assert.Single(venue.Fills).Liquidity);
        Assert.Equal(BacktestOrderStatus.Filled, Assert.Single(venue.Orders).Status);
        Assert.Equal(1m, venue.Position);
    }

    [Fact]
    public void A_sell_stop_limit_triggers_at_its_stop_then_fills_only_at_or_above_its_limit()
    {
        var venue = Venue();
        venue.PlaceOrder(new StrategyOrderRequest(OrderSide.Buy, OrderType.Market, 2m, null));
        venue.OnPrint(Print(2, 100m, 5m, 1));
        var stop = venue.PlaceOrder(new StrategyOrderRequest(OrderSide.Sell, OrderType.StopLimit, 2m, 97m, StopPrice: 98m));

        Assert.Empty(venue.OnPrint(Print(3, 98.5m, 5m, 2)));  // above the stop: waits
        Assert.Empty(venue.OnPrint(Print(4, 98m, 5m, 3)));    // triggers; sell limit 97 is marketable at 98: a taker
        Assert.Empty(venue.OnPrint(Print(5, 96.5m, 5m, 4)));  // below the sell limit
        var fill = Assert.Single(venue.OnPrint(Print(6, 97.5m, 5m, 5)));

        Assert.Equal(new StrategyFill(stop, OrderSide.Sell, 97.5m, 2m, 97.5m * 2m * 0.001m), fill);
        Assert.Equal(0m, venue.Position);
    }

    [Fact]
    public void An_IOC_takes_what_the_next_print_gives_and_expires_the_rest()
    {
        var venue = Venue();
        var handle = venue.PlaceOrder(new StrategyOrderRequest(OrderSide.Buy, OrderType.Limit, 2m, 100m, TimeInForce: TimeInForce.Ioc));

        var fill = Assert.Single(venue.OnPrint(Print(2, 99.5m, 0.5m, 1)));

        Assert.Equal(new StrategyFill(handle, OrderSide.Buy, 99.5m, 0.5m, 99.5m * 0.5m * 0.001m), fill); // marketable at 100: a taker
        var order = Assert.Single(venue.Orders);
        Assert.Equal((BacktestOrderStatus.Expired, 0.5m), (order.Status, order.FilledQuantity));
        Assert.Empty(venue.OnPrint(Print(3, 99m, 5m, 2)));
        Assert.Equal(10_000m - (99.5m * 0.5m * 1.001m), venue.QuoteBalance); // the rest of its lock is free again
    }

    [Fact]
    public void A_FOK_that_the_next_print_cannot_fill_whole_expires_with_nothing()
    {
        var venue = Venue();
        venue.PlaceOrder(new StrategyOrderRequest(OrderSide.Buy, OrderType.Limit, 2m, 100m, TimeInForce: TimeInForce.Fok));

        Assert.Empty(venue.OnPrint(Print(2, 99.5m, 1.5m, 1)));

        var order = Assert.Single(venue.Orders);
        Assert.Equal((BacktestOrderStatus.Expired, 0m), (order.Status, order.FilledQuantity));
        Assert.StartsWith("FOK", order.RejectReason, StringComparison.Ordinal);
        Assert.Equal(10_000m, venue.QuoteBalance);
    }

    [Fact]
    public void A_FOK_that_the_next_print_can_fill_whole_fills()
    {
        var venue = Venue();
        venue.PlaceOrder(new StrategyOrderRequest(OrderSide.Buy, OrderType.Limit, 2m, 100m, TimeInForce: TimeInForce.Fok));

        Assert.Single(venue.OnPrint(Print(2, 99.5m, 2m, 1)));

        Assert.Equal(BacktestOrderStatus.Filled, Assert.Single(venue.Orders).Status);
    }

    [Fact]
    public void Makers_pay_the_maker_rate_and_takers_the_taker_rate_exactly_as_the_paper_exchange_charges_them()
    {
        StrategyOrderRequest[] orders =
        [
            new(OrderSide.Buy, OrderType.Limit, 1m, 99m),           // below the last price: a maker, fills at 99
            new(OrderSide.Buy, OrderType.Market, 1m, null),         // a taker, fills at the print
            new(OrderSide.Buy, OrderType.Limit, 1m, 101m),          // marketable: a taker, fills at the print
        ];
        Trade[] prints = [Print(2, 98m, 10m, 1), Print(3, 98.5m, 10m, 2)];
        var venue = Venue();
        foreach (var order in orders)
        {
            venue.PlaceOrder(order);
        }
        foreach (var print in prints)
        {
            venue.OnPrint(print);
        }

        // The same orders and prints, straight into the paper engine's core.
        var paper = new PaperExchange([BtcUsdt]);
        var user = Guid.NewGuid();
        paper.SetFeeRates(user, Fees);
        paper.Ledger.Deposit(user, "USDT", 10_000m);
        paper.OnTrade(Print(1, 100m, 1m, 0));
        foreach (var order in orders)
        {
            Assert.True(paper.Submit(new OrderRequest(Guid.NewGuid(), user, null, null, "binance", "BTCUSDT", order.Side, order.Type,
                TimeInForce.Gtc, order.Quantity, order.Price, null, T0)).Accepted);
        }
        var paperFills = prints.SelectMany(p => paper.OnTrade(p).Fills).ToList();

        Assert.Equal(
            [(98m, Liquidity.Taker, 0.098m), (98m, Liquidity.Taker, 0.098m), (99m, Liquidity.Maker, 0.0198m)],
            venue.Fills.Select(f => (f.Price, f.Liquidity, f.Fee)));
        Assert.Equal(paperFills.Select(f => (f.Price, f.Quantity, f.Fee, f.Liquidity, f.TradeId, f.Time)),
            venue.Fills.Select(f => (f.Price, f.Quantity, f.Fee, f.Liquidity, f.TradeId, f.Time)));
        Assert.Equal(paper.Ledger.GetBalances(user), venue.Exchange.Ledger.GetBalances(BacktestVenue.Account));
    }

    [Fact]
    public void Cancelling_a_resting_order_gives_its_locked_funds_back()
    {
        var venue = Venue();
        var handle = venue.PlaceOrder(new StrategyOrderRequest(OrderSide.Buy, OrderType.Limit, 10m, 90m));
        Assert.Equal(10_000m - (900m * 1.001m), venue.QuoteBalance);

        Assert.True(venue.Cancel(handle));
        Assert.False(venue.Cancel(handle));

        Assert.Equal(10_000m, venue.QuoteBalance);
        Assert.Equal(BacktestOrderStatus.Canceled, Assert.Single(venue.Orders).Status);
    }
}
