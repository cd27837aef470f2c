using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Trading;
using QuantTrader.Trading.Accounts;
using static QuantTrader.Trading.Tests.Build;

namespace QuantTrader.Trading.Tests;

/// <summary>
/// Several trades of one market in one MARKET_RAW message (<see cref="TradeMessages"/>): <see cref="PaperExchange.OnTrades"/>
/// must give exactly what the same prints one message each would give — each print its own liquidity.
/// </summary>
public sealed class PaperExchangeBatchTests
{
    private static PaperExchange Funded()
    {
        var exchange = new PaperExchange([BtcUsdt]);
        exchange.Ledger.Deposit(Alice, "USDT", 10_000m);
        exchange.Ledger.Deposit(Bob, "USDT", 10_000m);
        exchange.OnTrade(Trade(1, 100m, 1m));
        return exchange;
    }

    [Fact]
    public void A_market_buy_fills_once_per_print_of_the_batch_and_never_more_than_each_print_offers()
    {
        var exchange = Funded();
        var order = Market(OrderSide.Buy, 0.9m);
        Assert.True(exchange.Submit(order).Accepted);

        var result = exchange.OnTrades([Trade(2, 100m, 0.4m), Trade(3, 101m, 0.5m), Trade(4, 102m, 3m)]);

        Assert.Equal([(2L, 100m, 0.4m), (3L, 101m, 0.5m)], result.Fills.Select(f => (f.TradeId, f.Price, f.Quantity)));
        Assert.All(result.Fills, f => Assert.Equal(order.Id, f.OrderId));
        Assert.Equal([OrderStatus.PartiallyFilled, OrderStatus.Filled], result.Updates.Select(u => u.Status));
        Assert.Equal(new AssetBalance("BTC", 0.9m, 0m), exchange.Ledger.GetBalance(Alice, "BTC"));
        Assert.Equal(new AssetBalance("USDT", 10_000m - 90.5m - 0.0905m, 0m), exchange.Ledger.GetBalance(Alice, "USDT"));
        Assert.Equal((102m, 4L), (exchange.GetBook("binance", "BTCUSDT")!.LastPrice, exchange.GetBook("binance", "BTCUSDT")!.LastTradeId));
    }

    [Fact]
    public void A_resting_limit_fills_only_on_the_prints_of_the_batch_at_or_through_its_price()
    {
        var exchange = Funded();
        var order = Limit(OrderSide.Buy, 1m, 99m);
        exchange.Submit(order);

        var result = exchange.OnTrades(
        [
            Trade(2, 99.5m, 3m), // above the limit: nothing
            Trade(3, 99m, 0.3m), // at it
            Trade(4, 100m, 5m),  // above again
            Trade(5, 98m, 0.5m), // through it
            Trade(6, 97m, 10m),  // the rest
        ]);

        Assert.Equal([(3L, 0.3m), (5L, 0.5m), (6L, 0.2m)], result.Fills.Select(f => (f.TradeId, f.Quantity)));
        Assert.All(result.Fills, f => Assert.Equal((99m, Liquidity.Maker), (f.Price, f.Liquidity)));
        Assert.Equal([OrderStatus.PartiallyFilled, OrderStatus.PartiallyFilled, OrderStatus.Filled], result.Updates.Select(u => u.Status));
        Assert.Equal([0.3m, 0.8m, 1m], result.Updates.Select(u => u.FilledQuantity));
        Assert.Empty(exchange.Ledger.Reservations);
    }

    [Fact]
    public void Two_orders_share_each_prints_quantity_and_the_next_print_of_the_batch_is_new_liquidity()
    {
        var exchange = Funded();
        var first = Limit(OrderSide.Buy, 1m, 99m);
        var second = Limit(OrderSide.Buy, 1m, 99m, user: Bob);
        exchange.Submit(first);
        exchange.Submit(second);

        var result = exchange.OnTrades([Trade(2, 99m, 1.5m), Trade(3, 99m, 1m)]);

        Assert.Equal(
            [(2L, first.Id, 1m), (2L, second.Id, 0.5m), (3L, second.Id, 0.5m)],
            result.Fills.Select(f => (f.TradeId, f.OrderId, f.Quantity)));
        foreach (var print in result.Fills.GroupBy(f => f.TradeId))
        {
            Assert.True(print.Sum(f => f.Quantity) <= (print.Key == 2 ? 1.5m : 1m));
            Assert.Equal(print.Count(), print.Select(f => f.OrderId).Distinct().Count());
        }
    }

    [Fact]
    public void The_same_prints_one_message_each_give_the_same_fills_and_events()
    {
        Trade[] prints = [Trade(2, 101m, 0.2m), Trade(3, 99m, 0.3m), Trade(4, 98m, 2m), Trade(5, 103m, 1m), Trade(6, 97m, 1m)];
        var batched = Funded();
        var alone = Funded();
        var orders = new[]
        {
            Market(OrderSide.Buy, 0.4m),
            Limit(OrderSide.Buy, 1m, 99m, user: Bob),
            Order(OrderSide.Buy, OrderType.StopMarket, 0.5m, stopPrice: 102m),
            Limit(OrderSide.Buy, 0.5m, 98m, TimeInForce.Ioc, user: Bob),
        };
        foreach (var order in orders)
        {
            Assert.True(batched.Submit(order).Accepted);
            Assert.True(alone.Submit(order).Accepted);
        }

        var result = batched.OnTrades(prints);
        var one = prints.Select(alone.OnTrade).ToList();

        Assert.Equal(one.SelectMany(r => r.Fills), result.Fills);
        Assert.Equal(one.SelectMany(r => r.Updates), result.Updates);
        Assert.NotEmpty(result.Fills);
        Assert.Equal(alone.Ledger.GetBalances(Alice), batched.Ledger.GetBalances(Alice));
        Assert.Equal(alone.Ledger.GetBalances(Bob), batched.Ledger.GetBalances(Bob));
    }

    [Fact]
    public void A_stop_triggered_by_one_print_of_the_batch_fills_from_the_next_print_of_the_same_batch()
    {
        var exchange = Funded();
        var stop = Order(OrderSide.Buy, OrderType.StopMarket, 0.5m, stopPrice: 102m);
        exchange.Submit(stop);

        var result = exchange.OnTrades([Trade(2, 102m, 5m), Trade(3, 102.5m, 5m)]);

        var fill = Assert.Single(result.Fills);
        Assert.Equal((stop.Id, 3L, 102.5m, 0.5m), (fill.OrderId, fill.TradeId, fill.Price, fill.Quantity));
    }

    [Fact]
    public void An_order_whose_reference_is_the_last_print_of_a_batch_fills_on_none_of_it()
    {
        // The engine: an order that overtakes a queued batch takes its last print as reference (it was published before
        // the order was accepted), so the batch applied afterwards must not fill it; the next message does.
        var exchange = Funded();
        Trade[] queued = [Trade(2, 100m, 1m), Trade(3, 100m, 1m)];
        var order = Market(OrderSide.Buy, 0.5m);
        Assert.True(exchange.Submit(order, referenceTrade: queued[^1]).Accepted);

        Assert.Empty(exchange.OnTrades(queued).Fills);
        var fill = Assert.Single(exchange.OnTrades([Trade(4, 100m, 1m)]).Fills);
        Assert.Equal(4L, fill.TradeId);
    }

    [Fact]
    public void A_batch_applied_again_after_a_restore_fills_nothing_twice()
    {
        var exchange = Funded();
        exchange.Submit(Limit(OrderSide.Buy, 1m, 99m));
        Trade[] batch = [Trade(2, 99m, 0.4m), Trade(3, 99m, 0.4m)];
        Assert.Equal(2, exchange.OnTrades(batch).Fills.Count);

        var restored = PaperExchange.Restore([BtcUsdt], exchange.Snapshot());

        Assert.Same(Matching.MatchResult.Empty, restored.OnTrades(batch));
        Assert.Equal(0.2m, Assert.Single(restored.OnTrades([.. batch, Trade(4, 98m, 1m)]).Fills).Quantity);
    }

    [Fact]
    public void No_trades_change_nothing()
    {
        var exchange = Funded();
        exchange.Submit(Market(OrderSide.Buy, 0.5m));

        Assert.Same(Matching.MatchResult.Empty, exchange.OnTrades(Array.Empty<Trade>()));
    }
}
