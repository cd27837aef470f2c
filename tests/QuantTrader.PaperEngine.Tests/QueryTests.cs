using Microsoft.Extensions.Logging.Abstractions;
using QuantTrader.Contracts.Trading;
using QuantTrader.PaperEngine.Accounts;
using QuantTrader.PaperEngine.Fees;
using QuantTrader.PaperEngine.Orders;
using QuantTrader.PaperEngine.Portfolios;
using QuantTrader.Trading;
using static QuantTrader.PaperEngine.Tests.Build;

namespace QuantTrader.PaperEngine.Tests;

/// <summary>The account, fee-rate, exposure and portfolio reads over the engine's state.</summary>
public sealed class QueryTests
{
    private readonly PaperExchange _exchange = Exchange();

    private PaperAccounts Accounts(Action<PaperEngine.Engine.PaperEngineOptions>? change = null) =>
        new(Wrap(Options(change)), NullLogger<PaperAccounts>.Instance);

    [Fact]
    public void An_account_opens_once_with_the_operator_paper_money_and_default_fee_rates()
    {
        var accounts = Accounts(o => { o.StartingBalance = 2_500m; o.MakerFeeRate = 0.0002m; o.TakerFeeRate = 0.0004m; });

        Assert.True(accounts.Open(_exchange, Alice));
        Assert.False(accounts.Open(_exchange, Alice));

        Assert.Equal(2_500m, Assert.Single(_exchange.Ledger.GetBalances(Alice)).Free);
        Assert.Equal(new FeeRates(0.0002m, 0.0004m), _exchange.GetFeeRates(Alice));
    }

    [Fact]
    public void A_restored_account_is_not_opened_again()
    {
        var accounts = Accounts();
        accounts.Restore([Alice]);

        Assert.False(accounts.Open(_exchange, Alice));
        Assert.Empty(_exchange.Ledger.GetBalances(Alice));
    }

    [Fact]
    public void A_fee_rate_left_out_of_a_change_keeps_its_value()
    {
        var current = new FeeRates(0.001m, 0.002m);

        Assert.Equal(new FeeRates(0.0005m, 0.002m), new FeeRateChange(0.0005m, null).AppliedTo(current));
        Assert.Equal(new FeeRates(0.001m, 0.0007m), new FeeRateChange(null, 0.0007m).AppliedTo(current));
    }

    [Fact]
    public void A_position_is_valued_at_the_mark_and_equity_in_the_valuation_asset()
    {
        Accounts().Open(_exchange, Alice);
        _exchange.OnTrade(Trade(1, 50_000m));
        _exchange.Submit(Limit(OrderSide.Buy, 0.1m, 50_000m), null);
        _exchange.OnTrade(Trade(2, 50_000m, 1m));
        var marks = new Dictionary<string, decimal> { ["binance:BTCUSDT"] = 51_000m };

        var view = PortfolioQuery.Of(_exchange, Alice, marks, new Dictionary<string, decimal> { ["BTC"] = 51_000m }, "USDT");

        var position = Assert.Single(view.Positions);
        Assert.Equal(0.1m, position.Quantity);
        Assert.Equal(50_050m, position.AverageEntryPrice); // the fee is part of the cost
        Assert.Equal((0.1m * 51_000m) - 5_005m, position.UnrealizedPnl);
        var usdt = view.Balances.Single(b => b.Asset == "USDT").Free;
        Assert.Equal(usdt + (0.1m * 51_000m), view.Equity);
        Assert.Equal("USDT", view.ValuationAsset);
        Assert.Equal(_exchange.GetFeeRates(Alice), view.FeeRates);
        Assert.Equal(0.1m * 50_000m * 0.001m, Assert.Single(view.FeesPaid).Paid);
    }

    [Fact]
    public void Exposure_counts_open_orders_and_today_pnl_by_the_day_of_the_given_time()
    {
        Accounts().Open(_exchange, Alice);
        _exchange.OnTrade(Trade(1, 50_000m));
        _exchange.Submit(Limit(OrderSide.Buy, 0.1m, 49_000m), null);

        var exposure = AccountExposure.Of(_exchange, Alice, BtcUsdt, new Dictionary<string, decimal>(), T0);

        Assert.Equal(1, exposure.OpenOrders);
        Assert.Equal(0m, exposure.PositionQuantity);
        Assert.Equal(50_000m, exposure.LastPrice);
        Assert.Equal(0m, exposure.DailyPnl);
    }

    [Fact]
    public void A_market_key_is_exchange_and_symbol_by_value()
    {
        Assert.Equal(new MarketKey("binance", "BTCUSDT"), MarketKey.Of(BtcUsdt));
        Assert.Equal(MarketKey.Of(Trade(1, 1m)), MarketKey.Of(BtcUsdt));
        Assert.Equal("binance:BTCUSDT", MarketKey.Of(BtcUsdt).ToString());
    }
}
