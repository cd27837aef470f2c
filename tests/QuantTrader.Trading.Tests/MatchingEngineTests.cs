using QuantTrader.Contracts.Trading;
using QuantTrader.Trading.Matching;
using static QuantTrader.Trading.Tests.Build;

namespace QuantTrader.Trading.Tests;

public sealed class MatchingEngineTests
{
    private static readonly FeeRates Fees = new(Maker: 0.001m, Taker: 0.002m);

    private static MatchingEngine BookAt(decimal lastPrice, long lastTradeId = 1)
    {
        var book = new MatchingEngine(BtcUsdt);
        book.OnTrade(Trade(lastTradeId, lastPrice, 1m));
        return book;
    }

    [Fact]
    public void Market_order_fills_on_the_next_print_as_taker_at_the_print_price_with_taker_fee()
    {
        var book = BookAt(100m);
        var order = Market(OrderSide.Buy, 0.5m);
        var accepted = book.Submit(order, Fees);
        Assert.Equal(OrderStatus.New, Assert.Single(accepted.Updates).Status);
        Assert.Empty(accepted.Fills);

        var result = book.OnTrade(Trade(2, 101m, 2m));

        var fill = Assert.Single(result.Fills);
        Assert.Equal(101m, fill.Price);
        Assert.Equal(0.5m, fill.Quantity);
        Assert.Equal(Liquidity.Taker, fill.Liquidity);
        Assert.Equal(101m * 0.5m * 0.002m, fill.Fee);
        Assert.Equal("USDT", fill.FeeAsset);
        Assert.Equal(2, fill.TradeId);
        Assert.Equal(Trade(2, 101m, 2m).Time, fill.Time);
        var update = Assert.Single(result.Updates);
        Assert.Equal(OrderStatus.Filled, update.Status);
        Assert.Equal(101m, update.AveragePrice);
        Assert.Equal(fill.Fee, update.Fees);
        Assert.Equal(0, book.OpenOrderCount);
    }

    [Fact]
    public void An_order_never_fills_on_the_print_it_was_priced_against_or_earlier_ones()
    {
        var book = new MatchingEngine(BtcUsdt);
        book.Submit(Market(OrderSide.Buy, 1m), Fees, referenceTrade: Trade(10, 100m, 1m));

        Assert.Empty(book.OnTrade(Trade(10, 100m, 5m)).Fills); // the reference print itself
        Assert.Empty(book.OnTrade(Trade(9, 100m, 5m)).Fills);  // an older one arriving late
        Assert.Single(book.OnTrade(Trade(11, 100m, 5m)).Fills);
    }

    [Fact]
    public void Limit_marketable_on_arrival_fills_as_taker_at_the_print_price()
    {
        var book = BookAt(100m);
        book.Submit(Limit(OrderSide.Buy, 1m, 105m), Fees);

        var fill = Assert.Single(book.OnTrade(Trade(2, 101m, 1m)).Fills);

        Assert.Equal(Liquidity.Taker, fill.Liquidity);
        Assert.Equal(101m, fill.Price);
        Assert.Equal(101m * 0.002m, fill.Fee);
    }

    [Fact]
    public void Taker_limit_does_not_fill_on_a_print_beyond_its_limit()
    {
        var book = BookAt(100m);
        book.Submit(Limit(OrderSide.Buy, 1m, 105m), Fees);

        Assert.Empty(book.OnTrade(Trade(2, 106m, 1m)).Fills);
        Assert.Equal(1, book.OpenOrderCount);
    }

    [Fact]
    public void Resting_buy_limit_fills_as_maker_at_its_limit_when_a_print_trades_at_or_below_it()
    {
        var book = BookAt(100m);
        book.Submit(Limit(OrderSide.Buy, 1m, 99m), Fees);

        Assert.Empty(book.OnTrade(Trade(2, 99.5m, 1m)).Fills);
        var fill = Assert.Single(book.OnTrade(Trade(3, 98m, 1m)).Fills);

        Assert.Equal(Liquidity.Maker, fill.Liquidity);
        Assert.Equal(99m, fill.Price); // at the limit, not at the print
        Assert.Equal(99m * 0.001m, fill.Fee);
    }

    [Fact]
    public void Resting_sell_limit_fills_as_maker_when_a_print_trades_at_its_price()
    {
        var book = BookAt(100m);
        book.Submit(Limit(OrderSide.Sell, 1m, 101m), Fees);

        Assert.Empty(book.OnTrade(Trade(2, 100.99m, 1m)).Fills);
        var fill = Assert.Single(book.OnTrade(Trade(3, 101m, 1m)).Fills);

        Assert.Equal(Liquidity.Maker, fill.Liquidity);
        Assert.Equal(101m, fill.Price);
    }

    [Fact]
    public void Limit_with_no_known_price_rests_as_maker()
    {
        var book = new MatchingEngine(BtcUsdt);
        book.Submit(Limit(OrderSide.Buy, 1m, 100m), Fees);

        var fill = Assert.Single(book.OnTrade(Trade(1, 90m, 1m)).Fills);

        Assert.Equal(Liquidity.Maker, fill.Liquidity);
        Assert.Equal(100m, fill.Price);
    }

    [Fact]
    public void Buy_stop_market_triggers_on_a_print_at_or_above_the_stop_and_fills_on_the_next_print()
    {
        var book = BookAt(100m);
        book.Submit(Order(OrderSide.Buy, OrderType.StopMarket, 1m, stopPrice: 105m), Fees);

        Assert.Empty(book.OnTrade(Trade(2, 104.99m, 1m)).Fills);
        Assert.Empty(book.OnTrade(Trade(3, 105m, 1m)).Fills); // the trigger print
        var fill = Assert.Single(book.OnTrade(Trade(4, 106m, 1m)).Fills);

        Assert.Equal(Liquidity.Taker, fill.Liquidity);
        Assert.Equal(106m, fill.Price);
    }

    [Fact]
    public void Sell_stop_market_triggers_on_a_print_at_or_below_the_stop()
    {
        var book = BookAt(100m);
        book.Submit(Order(OrderSide.Sell, OrderType.StopMarket, 1m, stopPrice: 95m), Fees);

        Assert.Empty(book.OnTrade(Trade(2, 96m, 1m)).Fills);
        Assert.Empty(book.OnTrade(Trade(3, 94m, 1m)).Fills);
        var fill = Assert.Single(book.OnTrade(Trade(4, 93m, 1m)).Fills);

        Assert.Equal(OrderSide.Sell, fill.Side);
        Assert.Equal(93m, fill.Price);
    }

    [Fact]
    public void Stop_limit_triggered_with_an_unmarketable_limit_rests_as_maker()
    {
        var book = BookAt(100m);
        book.Submit(Order(OrderSide.Sell, OrderType.StopLimit, 1m, price: 96m, stopPrice: 95m), Fees);

        book.OnTrade(Trade(2, 94m, 1m)); // triggers; limit 96 > 94 so not marketable: maker
        Assert.Empty(book.OnTrade(Trade(3, 95m, 1m)).Fills);
        var fill = Assert.Single(book.OnTrade(Trade(4, 97m, 1m)).Fills);

        Assert.Equal(Liquidity.Maker, fill.Liquidity);
        Assert.Equal(96m, fill.Price);
    }

    [Fact]
    public void Stop_limit_triggered_with_a_marketable_limit_is_a_taker()
    {
        var book = BookAt(100m);
        book.Submit(Order(OrderSide.Buy, OrderType.StopLimit, 1m, price: 110m, stopPrice: 105m), Fees);

        book.OnTrade(Trade(2, 106m, 1m));
        var fill = Assert.Single(book.OnTrade(Trade(3, 107m, 1m)).Fills);

        Assert.Equal(Liquidity.Taker, fill.Liquidity);
        Assert.Equal(107m, fill.Price);
    }

    [Fact]
    public void Stop_already_crossed_on_arrival_triggers_immediately()
    {
        var book = BookAt(100m);
        book.Submit(Order(OrderSide.Buy, OrderType.StopMarket, 1m, stopPrice: 99m), Fees);

        Assert.Single(book.OnTrade(Trade(2, 100m, 1m)).Fills);
    }

    [Fact]
    public void Partial_fills_update_filled_quantity_average_price_and_status()
    {
        var book = BookAt(100m);
        var order = Market(OrderSide.Buy, 3m);
        book.Submit(order, Fees);

        var first = Assert.Single(book.OnTrade(Trade(2, 100m, 1m)).Updates);
        Assert.Equal(OrderStatus.PartiallyFilled, first.Status);
        Assert.Equal(1m, first.FilledQuantity);

        var second = Assert.Single(book.OnTrade(Trade(3, 103m, 1.5m)).Updates);
        Assert.Equal(OrderStatus.PartiallyFilled, second.Status);
        Assert.Equal(2.5m, second.FilledQuantity);
        Assert.Equal(((100m * 1m) + (103m * 1.5m)) / 2.5m, second.AveragePrice);

        var third = Assert.Single(book.OnTrade(Trade(4, 90m, 7m)).Updates);
        Assert.Equal(OrderStatus.Filled, third.Status);
        Assert.Equal(3m, third.FilledQuantity);
        Assert.Equal(((100m * 1m) + (103m * 1.5m) + (90m * 0.5m)) / 3m, third.AveragePrice);
        Assert.Equal(((100m * 1m) + (103m * 1.5m) + (90m * 0.5m)) * 0.002m, third.Fees);
    }

    [Fact]
    public void A_print_is_consumed_two_resting_orders_cannot_both_fill_more_than_its_size()
    {
        var book = BookAt(100m);
        var first = Limit(OrderSide.Buy, 1m, 99m);
        var second = Limit(OrderSide.Buy, 1m, 99m);
        book.Submit(first, Fees);
        book.Submit(second, Fees);

        var fills = book.OnTrade(Trade(2, 99m, 1.5m)).Fills;

        Assert.Equal(1.5m, fills.Sum(f => f.Quantity));
        Assert.Equal(first.Id, fills[0].OrderId); // time priority at the same price
        Assert.Equal(1m, fills[0].Quantity);
        Assert.Equal(0.5m, fills[1].Quantity);
    }

    [Fact]
    public void Better_priced_order_gets_the_liquidity_first_even_if_later()
    {
        var book = BookAt(100m);
        var early = Limit(OrderSide.Buy, 1m, 98m);
        var better = Limit(OrderSide.Buy, 1m, 99m);
        book.Submit(early, Fees);
        book.Submit(better, Fees);

        var fill = Assert.Single(book.OnTrade(Trade(2, 97m, 1m)).Fills);

        Assert.Equal(better.Id, fill.OrderId);
    }

    [Fact]
    public void Market_orders_come_before_limit_orders()
    {
        var book = BookAt(100m);
        var limit = Limit(OrderSide.Buy, 1m, 99m);
        book.Submit(limit, Fees);
        var market = Market(OrderSide.Sell, 1m);
        book.Submit(market, Fees);

        var fill = Assert.Single(book.OnTrade(Trade(2, 98m, 1m)).Fills);

        Assert.Equal(market.Id, fill.OrderId);
    }

    [Fact]
    public void Buys_and_sells_share_one_print()
    {
        var book = new MatchingEngine(BtcUsdt);
        book.Submit(Limit(OrderSide.Buy, 1m, 101m), Fees);
        book.Submit(Limit(OrderSide.Sell, 1m, 99m), Fees);

        var fills = book.OnTrade(Trade(1, 100m, 1.2m)).Fills;

        Assert.Equal(2, fills.Count);
        Assert.Equal(1.2m, fills.Sum(f => f.Quantity));
    }

    [Fact]
    public void A_redelivered_print_changes_nothing()
    {
        var book = BookAt(100m);
        book.Submit(Market(OrderSide.Buy, 3m), Fees);

        Assert.Single(book.OnTrade(Trade(2, 100m, 1m)).Fills);
        Assert.Same(MatchResult.Empty, book.OnTrade(Trade(2, 100m, 1m)));
        Assert.Equal(1m, book.GetOpenOrders().Single().FilledQuantity);
    }

    [Fact]
    public void A_snapshot_lists_the_newest_trade_ids_and_folds_the_rest_into_its_watermark_so_a_restored_book_still_knows_every_processed_one()
    {
        var book = BookAt(100m);
        var processed = Enumerable.Range(1, 200).Select(i => (long)i * 2).ToArray(); // 2, 4, …, 400
        foreach (var id in processed)
        {
            book.OnTrade(Trade(id, 100m, 1m));
        }

        var snapshot = book.Snapshot();
        Assert.Equal(MatchingEngine.SnapshotTradeIds, snapshot.RecentTradeIds.Count);
        Assert.Equal(processed[^MatchingEngine.SnapshotTradeIds..], snapshot.RecentTradeIds);
        Assert.Equal(processed[^(MatchingEngine.SnapshotTradeIds + 1)], snapshot.TradeIdWatermark);

        var restored = MatchingEngine.Restore(BtcUsdt, snapshot);
        restored.Submit(Market(OrderSide.Buy, 1m), Fees, referenceTrade: Trade(0, 100m, 1m));
        foreach (var id in processed)
        {
            Assert.Same(MatchResult.Empty, restored.OnTrade(Trade(id, 100m, 1m))); // every processed print, old or new
        }
        Assert.Single(restored.OnTrade(Trade(401, 100m, 1m)).Fills);
    }

    [Fact]
    public void Trade_ids_older_than_the_remembered_window_count_as_processed()
    {
        var book = new MatchingEngine(BtcUsdt, tradeIdWindow: 2);
        book.OnTrade(Trade(1, 100m, 1m));
        book.OnTrade(Trade(2, 100m, 1m));
        book.OnTrade(Trade(3, 100m, 1m));
        book.Submit(Market(OrderSide.Buy, 1m), Fees, referenceTrade: Trade(0, 100m, 1m));

        Assert.Same(MatchResult.Empty, book.OnTrade(Trade(1, 100m, 1m)));
        Assert.Same(MatchResult.Empty, book.OnTrade(Trade(3, 100m, 1m)));
        Assert.Single(book.OnTrade(Trade(4, 100m, 1m)).Fills);
    }

    [Fact]
    public void Ioc_takes_what_the_next_print_gives_and_expires_the_rest()
    {
        var book = BookAt(100m);
        book.Submit(Limit(OrderSide.Buy, 2m, 101m, TimeInForce.Ioc), Fees);

        var result = book.OnTrade(Trade(2, 100m, 0.5m));

        Assert.Equal(0.5m, Assert.Single(result.Fills).Quantity);
        var update = Assert.Single(result.Updates);
        Assert.Equal(OrderStatus.Expired, update.Status);
        Assert.Equal(0.5m, update.FilledQuantity);
        Assert.NotNull(update.RejectReason);
        Assert.Equal(0, book.OpenOrderCount);
    }

    [Fact]
    public void Ioc_expires_with_nothing_when_the_next_print_does_not_reach_its_price()
    {
        var book = BookAt(100m);
        book.Submit(Limit(OrderSide.Buy, 1m, 99m, TimeInForce.Ioc), Fees);

        var result = book.OnTrade(Trade(2, 100m, 5m));

        Assert.Empty(result.Fills);
        Assert.Equal(OrderStatus.Expired, Assert.Single(result.Updates).Status);
    }

    [Fact]
    public void Fok_expires_without_any_fill_when_the_next_print_is_too_small_and_leaves_the_liquidity_to_others()
    {
        var book = BookAt(100m);
        var fok = Market(OrderSide.Buy, 2m, TimeInForce.Fok);
        book.Submit(fok, Fees);
        var other = Limit(OrderSide.Buy, 1m, 100m);
        book.Submit(other, Fees);

        var result = book.OnTrade(Trade(2, 100m, 1m));

        var fill = Assert.Single(result.Fills);
        Assert.Equal(other.Id, fill.OrderId);
        Assert.Equal(OrderStatus.Expired, result.Updates.Single(u => u.Id == fok.Id).Status);
        Assert.Equal(0m, result.Updates.Single(u => u.Id == fok.Id).FilledQuantity);
    }

    [Fact]
    public void Fok_fills_entirely_on_one_print_when_it_is_large_enough()
    {
        var book = BookAt(100m);
        book.Submit(Market(OrderSide.Sell, 2m, TimeInForce.Fok), Fees);

        var result = book.OnTrade(Trade(2, 100m, 2m));

        Assert.Equal(2m, Assert.Single(result.Fills).Quantity);
        Assert.Equal(OrderStatus.Filled, Assert.Single(result.Updates).Status);
    }

    [Fact]
    public void Ioc_stop_waits_for_its_trigger_then_lives_for_one_print()
    {
        var book = BookAt(100m);
        book.Submit(Order(OrderSide.Buy, OrderType.StopMarket, 2m, stopPrice: 105m, tif: TimeInForce.Ioc), Fees);

        Assert.Empty(book.OnTrade(Trade(2, 101m, 1m)).Updates); // not triggered: not expired either
        Assert.Empty(book.OnTrade(Trade(3, 105m, 1m)).Updates); // triggers
        var result = book.OnTrade(Trade(4, 106m, 1m));

        Assert.Equal(1m, Assert.Single(result.Fills).Quantity);
        Assert.Equal(OrderStatus.Expired, Assert.Single(result.Updates).Status);
    }

    [Fact]
    public void Cancel_takes_a_resting_order_out_of_the_book()
    {
        var book = BookAt(100m);
        var order = Limit(OrderSide.Buy, 1m, 99m);
        book.Submit(order, Fees);
        var at = T0.AddMinutes(5);

        var canceled = book.Cancel(order.Id, at);

        Assert.NotNull(canceled);
        Assert.Equal(OrderStatus.Canceled, canceled.Status);
        Assert.Equal(at, canceled.UpdatedAt);
        Assert.Empty(book.OnTrade(Trade(2, 90m, 10m)).Fills);
        Assert.Null(book.Cancel(order.Id, at)); // already gone
        Assert.Null(book.Cancel(Guid.NewGuid(), at));
    }

    [Fact]
    public void Cancel_of_a_partially_filled_order_keeps_what_was_filled()
    {
        var book = BookAt(100m);
        var order = Limit(OrderSide.Buy, 2m, 99m);
        book.Submit(order, Fees);
        book.OnTrade(Trade(2, 99m, 0.5m));

        var canceled = book.Cancel(order.Id, T0);

        Assert.Equal(OrderStatus.Canceled, canceled!.Status);
        Assert.Equal(0.5m, canceled.FilledQuantity);
    }

    [Fact]
    public void A_buy_never_spends_more_than_its_budget_and_expires_the_unaffordable_rest()
    {
        var book = BookAt(100m);
        // Budget for 1 BTC at 100 with 5 % margin and fee; the price then jumps 20 %.
        var budget = 1m * 105m * 1.002m;
        book.Submit(Market(OrderSide.Buy, 1m), Fees, quoteBudget: budget);

        var result = book.OnTrade(Trade(2, 120m, 5m));

        var fill = Assert.Single(result.Fills);
        Assert.True((fill.Price * fill.Quantity) + fill.Fee <= budget);
        Assert.True(fill.Quantity > 0.87m && fill.Quantity < 1m);
        Assert.Equal(0m, fill.Quantity % BtcUsdt.Rules.StepSize);
        var update = Assert.Single(result.Updates);
        Assert.Equal(OrderStatus.Expired, update.Status);
        Assert.Contains("margin", update.RejectReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Trades_of_another_market_are_ignored()
    {
        var book = BookAt(100m);
        book.Submit(Market(OrderSide.Buy, 1m), Fees);

        var result = book.OnTrade(Trade(2, 100m, 1m) with { Symbol = "ETHUSDT" });

        Assert.Same(MatchResult.Empty, result);
        Assert.Equal(1, book.OpenOrderCount);
    }

    [Fact]
    public void Fill_ids_are_derived_from_order_and_trade_so_replays_give_the_same_ids()
    {
        var id = Guid.NewGuid();
        Assert.Equal(MatchingEngine.FillId(id, 42), MatchingEngine.FillId(id, 42));
        Assert.NotEqual(MatchingEngine.FillId(id, 42), MatchingEngine.FillId(id, 43));
    }

    [Fact]
    public void Snapshot_and_restore_continue_exactly_where_the_book_stopped()
    {
        var book = BookAt(100m);
        book.Submit(Limit(OrderSide.Buy, 2m, 99m), Fees);
        book.Submit(Limit(OrderSide.Buy, 1m, 99m), Fees);
        book.Submit(Order(OrderSide.Sell, OrderType.StopMarket, 1m, stopPrice: 95m), Fees);
        book.OnTrade(Trade(2, 99m, 0.5m));

        var restored = MatchingEngine.Restore(BtcUsdt, book.Snapshot());

        Assert.Same(MatchResult.Empty, restored.OnTrade(Trade(2, 99m, 0.5m))); // processed before the snapshot
        foreach (var trade in new[] { Trade(3, 94m, 1m), Trade(4, 93m, 3m), Trade(5, 99m, 1m) })
        {
            var expected = book.OnTrade(trade);
            var actual = restored.OnTrade(trade);
            Assert.Equal(expected.Fills, actual.Fills);
            Assert.Equal(expected.Updates, actual.Updates);
        }
    }

    [Fact]
    public void Submit_refuses_what_the_book_cannot_represent()
    {
        var book = BookAt(100m);
        var order = Limit(OrderSide.Buy, 1m, 99m);
        book.Submit(order, Fees);

        Assert.Throws<ArgumentException>(() => book.Submit(order, Fees));
        Assert.Throws<ArgumentException>(() => book.Submit(Order(OrderSide.Buy, OrderType.Limit, 1m), Fees));
        Assert.Throws<ArgumentException>(() => book.Submit(Market(OrderSide.Buy, 0m), Fees));
        Assert.Throws<ArgumentOutOfRangeException>(() => book.Submit(Market(OrderSide.Buy, 1m), new FeeRates(1m, 0m)));
    }
}
