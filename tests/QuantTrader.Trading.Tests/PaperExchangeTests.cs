using QuantTrader.Contracts.Trading;
using QuantTrader.Trading.Accounts;
using static QuantTrader.Trading.Tests.Build;

namespace QuantTrader.Trading.Tests;

public sealed class PaperExchangeTests
{
    private static PaperExchange Funded(decimal usdt = 10_000m)
    {
        var exchange = new PaperExchange([BtcUsdt]);
        exchange.Ledger.Deposit(Alice, "USDT", usdt);
        exchange.OnTrade(Trade(1, 100m, 1m));
        return exchange;
    }

    [Fact]
    public void Market_buy_changes_the_portfolio_by_price_times_quantity_plus_fee()
    {
        var exchange = Funded();

        var submitted = exchange.Submit(Market(OrderSide.Buy, 2m));
        Assert.True(submitted.Accepted);
        // Locked: 2 × 100 × 1.05 margin × 1.001 fee.
        Assert.Equal(new AssetBalance("USDT", 10_000m - 210.21m, 210.21m), exchange.Ledger.GetBalance(Alice, "USDT"));

        var result = exchange.OnTrade(Trade(2, 101m, 5m));

        Assert.Equal(OrderStatus.Filled, Assert.Single(result.Updates).Status);
        Assert.Equal(new AssetBalance("USDT", 10_000m - (202m + 0.202m), 0m), exchange.Ledger.GetBalance(Alice, "USDT"));
        Assert.Equal(new AssetBalance("BTC", 2m, 0m), exchange.Ledger.GetBalance(Alice, "BTC"));
        var position = exchange.GetPortfolio(Alice).GetPosition("binance", "BTCUSDT");
        Assert.Equal(2m, position.Quantity);
        Assert.Equal(202.202m / 2m, position.AverageEntryPrice);
    }

    [Fact]
    public void Cancel_releases_locked_funds()
    {
        var exchange = Funded();
        var order = Limit(OrderSide.Buy, 1m, 90m);
        exchange.Submit(order);
        Assert.Equal(90.09m, exchange.Ledger.GetBalance(Alice, "USDT").Locked);

        var canceled = exchange.Cancel(Alice, order.Id, T0);

        Assert.Equal(OrderStatus.Canceled, canceled!.Status);
        Assert.Equal(new AssetBalance("USDT", 10_000m, 0m), exchange.Ledger.GetBalance(Alice, "USDT"));
        Assert.Null(exchange.Ledger.GetReservation(order.Id));
    }

    [Fact]
    public void Another_user_cannot_cancel_an_order()
    {
        var exchange = Funded();
        var order = Limit(OrderSide.Buy, 1m, 90m);
        exchange.Submit(order);

        Assert.Null(exchange.Cancel(Bob, order.Id, T0));
        Assert.Single(exchange.GetOpenOrders(Alice));
    }

    [Fact]
    public void Expired_ioc_releases_what_it_did_not_spend()
    {
        var exchange = Funded();
        exchange.Submit(Limit(OrderSide.Buy, 2m, 100m, TimeInForce.Ioc));

        exchange.OnTrade(Trade(2, 100m, 0.5m));

        Assert.Equal(new AssetBalance("USDT", 10_000m - 50.05m, 0m), exchange.Ledger.GetBalance(Alice, "USDT"));
        Assert.Empty(exchange.Ledger.Reservations);
    }

    [Fact]
    public void Maker_fill_below_the_reserved_taker_rate_returns_the_difference()
    {
        var exchange = Funded();
        exchange.SetFeeRates(Alice, new FeeRates(0m, 0.002m));
        exchange.Submit(Limit(OrderSide.Buy, 1m, 99m));

        exchange.OnTrade(Trade(2, 98m, 1m));

        Assert.Equal(new AssetBalance("USDT", 10_000m - 99m, 0m), exchange.Ledger.GetBalance(Alice, "USDT"));
    }

    [Fact]
    public void Insufficient_funds_refuses_the_order_and_changes_nothing()
    {
        var exchange = Funded(usdt: 100m);

        var result = exchange.Submit(Limit(OrderSide.Buy, 1m, 100m)); // needs 100.1 with the fee

        Assert.Equal(SubmitRejection.InsufficientFunds, result.Rejection);
        Assert.Equal("quantity", Assert.Single(result.Errors).Field);
        Assert.Equal(100.1m, result.Funds!.Required);
        Assert.Equal(new AssetBalance("USDT", 100m, 0m), exchange.Ledger.GetBalance(Alice, "USDT"));
        Assert.Empty(exchange.GetOpenOrders(Alice));
    }

    [Fact]
    public void Selling_base_the_account_does_not_have_is_insufficient_funds()
    {
        var exchange = Funded();

        var result = exchange.Submit(Limit(OrderSide.Sell, 1m, 100m));

        Assert.Equal(SubmitRejection.InsufficientFunds, result.Rejection);
        Assert.Equal("BTC", result.Funds!.Asset);
    }

    [Fact]
    public void Market_buy_before_any_trade_cannot_be_priced()
    {
        var exchange = new PaperExchange([BtcUsdt]);
        exchange.Ledger.Deposit(Alice, "USDT", 1000m);

        var result = exchange.Submit(Market(OrderSide.Buy, 1m));

        Assert.Equal(SubmitRejection.NoReferencePrice, result.Rejection);
        Assert.Equal(new AssetBalance("USDT", 1000m, 0m), exchange.Ledger.GetBalance(Alice, "USDT"));
    }

    [Fact]
    public void Invalid_orders_and_unknown_markets_are_refused_naming_the_field()
    {
        var exchange = Funded();

        var invalid = exchange.Submit(Limit(OrderSide.Buy, 1m, 100.001m));
        var unknown = exchange.Submit(Limit(OrderSide.Buy, 1m, 100m) with { Symbol = "DOGEUSDT" });

        Assert.Equal(SubmitRejection.Invalid, invalid.Rejection);
        Assert.Equal("price", Assert.Single(invalid.Errors).Field);
        Assert.Equal(SubmitRejection.UnknownInstrument, unknown.Rejection);
        Assert.Equal("symbol", Assert.Single(unknown.Errors).Field);
    }

    [Fact]
    public void Round_trip_realizes_pnl_with_fees_and_restores_from_a_snapshot()
    {
        var exchange = Funded();
        exchange.Submit(Market(OrderSide.Buy, 1m));
        exchange.OnTrade(Trade(2, 100m, 1m));
        var snapshot = exchange.Snapshot();
        var restored = PaperExchange.Restore([BtcUsdt], snapshot);

        foreach (var venue in new[] { exchange, restored })
        {
            venue.Submit(Limit(OrderSide.Sell, 1m, 110m));
            venue.OnTrade(Trade(3, 111m, 1m));
        }

        // Bought 1 at 100 + 0.1 fee, sold at 110 − 0.11 fee.
        Assert.Equal(110m - 0.11m - 100.1m, exchange.GetPortfolio(Alice).RealizedPnl);
        Assert.Equal(exchange.GetPortfolio(Alice).RealizedPnl, restored.GetPortfolio(Alice).RealizedPnl);
        Assert.Equal(exchange.Ledger.GetBalances(Alice), restored.Ledger.GetBalances(Alice));
        Assert.Equal(10_000m - 100.1m + 109.89m, exchange.Ledger.GetBalance(Alice, "USDT").Free);
    }
}
