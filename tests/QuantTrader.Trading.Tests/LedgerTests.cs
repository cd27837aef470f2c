using QuantTrader.Contracts.Trading;
using QuantTrader.Trading.Accounts;
using static QuantTrader.Trading.Tests.Build;

namespace QuantTrader.Trading.Tests;

public sealed class LedgerTests
{
    private static FillEvent Fill(Guid orderId, OrderSide side, decimal price, decimal quantity, decimal fee) =>
        new(Guid.NewGuid(), orderId, Alice, null, "binance", "BTCUSDT", side, price, quantity, fee, "USDT", Liquidity.Taker, 1, T0);

    [Fact]
    public void Reserve_moves_free_to_locked_and_release_gives_it_back()
    {
        var ledger = new Ledger();
        ledger.Deposit(Alice, "USDT", 1000m);
        var order = NewId();

        var outcome = ledger.TryReserve(order, Alice, "USDT", 300m);

        Assert.True(outcome.Reserved);
        Assert.Equal(new AssetBalance("USDT", 700m, 300m), ledger.GetBalance(Alice, "USDT"));
        Assert.Equal(300m, ledger.Release(order));
        Assert.Equal(new AssetBalance("USDT", 1000m, 0m), ledger.GetBalance(Alice, "USDT"));
        Assert.Equal(0m, ledger.Release(order)); // releasing twice is harmless
    }

    [Fact]
    public void Insufficient_funds_is_a_clear_result_and_changes_nothing()
    {
        var ledger = new Ledger();
        ledger.Deposit(Alice, "USDT", 100m);

        var outcome = ledger.TryReserve(NewId(), Alice, "USDT", 100.01m);

        Assert.False(outcome.Reserved);
        Assert.Equal(100.01m, outcome.Required);
        Assert.Equal(100m, outcome.Available);
        Assert.Contains("Insufficient USDT", outcome.Reason, StringComparison.Ordinal);
        Assert.Equal(new AssetBalance("USDT", 100m, 0m), ledger.GetBalance(Alice, "USDT"));
        Assert.False(ledger.TryReserve(NewId(), Bob, "BTC", 1m).Reserved); // unknown account: zero balance
    }

    [Fact]
    public void Buy_fill_spends_locked_quote_for_price_and_fee_and_credits_base()
    {
        var ledger = new Ledger();
        ledger.Deposit(Alice, "USDT", 1000m);
        var order = NewId();
        ledger.TryReserve(order, Alice, "USDT", 1000m);

        ledger.Settle(Fill(order, OrderSide.Buy, 100m, 2m, 0.2m), BtcUsdt);

        Assert.Equal(new AssetBalance("USDT", 0m, 799.8m), ledger.GetBalance(Alice, "USDT"));
        Assert.Equal(new AssetBalance("BTC", 2m, 0m), ledger.GetBalance(Alice, "BTC"));
        Assert.Equal(799.8m, ledger.GetReservation(order)!.Amount);
        Assert.Equal(0.2m, ledger.GetFeesPaid(Alice).Single(f => f.Asset == "USDT").Free);
        Assert.Equal(799.8m, ledger.Release(order));
        Assert.Equal(new AssetBalance("USDT", 799.8m, 0m), ledger.GetBalance(Alice, "USDT"));
    }

    [Fact]
    public void Sell_fill_spends_locked_base_and_credits_quote_minus_fee()
    {
        var ledger = new Ledger();
        ledger.Deposit(Alice, "BTC", 1m);
        var order = NewId();
        ledger.TryReserve(order, Alice, "BTC", 1m);

        ledger.Settle(Fill(order, OrderSide.Sell, 100m, 0.4m, 0.04m), BtcUsdt);

        Assert.Equal(new AssetBalance("BTC", 0m, 0.6m), ledger.GetBalance(Alice, "BTC"));
        Assert.Equal(new AssetBalance("USDT", 39.96m, 0m), ledger.GetBalance(Alice, "USDT"));
    }

    [Fact]
    public void A_fill_that_would_overspend_its_lock_is_refused_as_a_bug()
    {
        var ledger = new Ledger();
        ledger.Deposit(Alice, "USDT", 1000m);
        var order = NewId();
        ledger.TryReserve(order, Alice, "USDT", 100m);

        Assert.Throws<InvalidOperationException>(() => ledger.Settle(Fill(order, OrderSide.Buy, 100m, 1m, 0.1m), BtcUsdt));
        Assert.Throws<InvalidOperationException>(() => ledger.Settle(Fill(NewId(), OrderSide.Buy, 1m, 1m, 0m), BtcUsdt));
        Assert.Equal(new AssetBalance("USDT", 900m, 100m), ledger.GetBalance(Alice, "USDT"));
    }

    [Fact]
    public void Snapshot_and_restore_keep_balances_reservations_and_fees()
    {
        var ledger = new Ledger();
        ledger.Deposit(Alice, "USDT", 1000m);
        var order = NewId();
        ledger.TryReserve(order, Alice, "USDT", 500m);
        ledger.Settle(Fill(order, OrderSide.Buy, 100m, 1m, 0.1m), BtcUsdt);

        var restored = Ledger.Restore(ledger.Snapshot());

        Assert.Equal(ledger.GetBalances(Alice), restored.GetBalances(Alice));
        Assert.Equal(ledger.GetFeesPaid(Alice), restored.GetFeesPaid(Alice));
        Assert.Equal(ledger.GetReservation(order), restored.GetReservation(order));
    }
}
