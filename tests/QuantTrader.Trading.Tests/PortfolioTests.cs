using QuantTrader.Contracts.Trading;
using QuantTrader.Trading.Accounts;
using QuantTrader.Trading.Positions;
using static QuantTrader.Trading.Tests.Build;

namespace QuantTrader.Trading.Tests;

public sealed class PortfolioTests
{
    private static FillEvent Fill(OrderSide side, decimal price, decimal quantity, decimal fee, DateTimeOffset? time = null) =>
        new(Guid.NewGuid(), Guid.NewGuid(), Alice, null, "binance", "BTCUSDT", side, price, quantity, fee, "USDT",
            Liquidity.Taker, 1, time ?? T0);

    [Fact]
    public void Buys_average_their_cost_including_fees()
    {
        var portfolio = new Portfolio();
        portfolio.Apply(Fill(OrderSide.Buy, 100m, 1m, 0.1m));
        portfolio.Apply(Fill(OrderSide.Buy, 110m, 1m, 0.11m));

        var position = portfolio.GetPosition("binance", "BTCUSDT");
        Assert.Equal(2m, position.Quantity);
        Assert.Equal(210.21m, position.CostBasis);
        Assert.Equal(105.105m, position.AverageEntryPrice);
        Assert.Equal(0m, portfolio.RealizedPnl);
    }

    [Fact]
    public void Reducing_realizes_against_the_average_cost_net_of_the_closing_fee()
    {
        var portfolio = new Portfolio();
        portfolio.Apply(Fill(OrderSide.Buy, 100m, 2m, 0.2m));

        var realized = portfolio.Apply(Fill(OrderSide.Sell, 120m, 1m, 0.12m));

        Assert.Equal(120m - 0.12m - 100.1m, realized);
        var position = portfolio.GetPosition("binance", "BTCUSDT");
        Assert.Equal(1m, position.Quantity);
        Assert.Equal(100.1m, position.AverageEntryPrice); // reducing leaves the average alone
        Assert.Equal(realized, portfolio.RealizedPnl);
    }

    [Fact]
    public void Unrealized_pnl_is_marked_at_the_given_price()
    {
        var portfolio = new Portfolio();
        portfolio.Apply(Fill(OrderSide.Buy, 100m, 2m, 0.2m));

        Assert.Equal((2m * 90m) - 200.2m, portfolio.GetPosition("binance", "BTCUSDT").UnrealizedPnl(90m));
        Assert.Equal((2m * 90m) - 200.2m, portfolio.UnrealizedPnl(new Dictionary<string, decimal> { ["binance:BTCUSDT"] = 90m }));
    }

    [Fact]
    public void Crossing_through_zero_splits_the_fill_and_opens_the_other_side()
    {
        var portfolio = new Portfolio();
        portfolio.Apply(Fill(OrderSide.Buy, 100m, 1m, 0m));

        var realized = portfolio.Apply(Fill(OrderSide.Sell, 110m, 3m, 0.3m));

        Assert.Equal(110m - 0.1m - 100m, realized); // one third of the fee belongs to the closing part
        var position = portfolio.GetPosition("binance", "BTCUSDT");
        Assert.Equal(-2m, position.Quantity);
        Assert.Equal(-(220m - 0.2m), position.CostBasis);
        Assert.Equal(109.9m, position.AverageEntryPrice);
        Assert.Equal((220m - 0.2m) - (2m * 100m), position.UnrealizedPnl(100m)); // a short gains when price falls
    }

    [Fact]
    public void Closing_fully_leaves_a_flat_position_with_no_dust()
    {
        var portfolio = new Portfolio();
        portfolio.Apply(Fill(OrderSide.Buy, 100m, 3m, 0.3m));
        portfolio.Apply(Fill(OrderSide.Sell, 101m, 1m, 0.101m));
        portfolio.Apply(Fill(OrderSide.Sell, 102m, 2m, 0.204m));

        var position = portfolio.GetPosition("binance", "BTCUSDT");
        Assert.Equal(0m, position.Quantity);
        Assert.Equal(0m, position.CostBasis);
        Assert.Empty(portfolio.OpenPositions);
        Assert.Equal((101m - 0.101m) + (204m - 0.204m) - 300.3m, portfolio.RealizedPnl);
    }

    [Fact]
    public void Realized_pnl_is_kept_per_utc_day_of_the_fill()
    {
        var portfolio = new Portfolio();
        portfolio.Apply(Fill(OrderSide.Buy, 100m, 2m, 0m, T0));
        portfolio.Apply(Fill(OrderSide.Sell, 90m, 1m, 0m, T0.AddHours(23)));
        portfolio.Apply(Fill(OrderSide.Sell, 95m, 1m, 0m, T0.AddHours(25)));

        Assert.Equal(-10m, portfolio.RealizedPnlOn(new DateOnly(2024, 3, 1)));
        Assert.Equal(-5m, portfolio.RealizedPnlOn(new DateOnly(2024, 3, 2)));
        Assert.Equal(0m, portfolio.RealizedPnlOn(new DateOnly(2024, 3, 3)));
    }

    [Fact]
    public void Equity_values_every_balance_in_the_quote_currency()
    {
        AssetBalance[] balances = [new("USDT", 500m, 100m), new("BTC", 0.5m, 0.5m), new("ETH", 2m, 0m)];

        var equity = Portfolio.Value(balances, "USDT", new Dictionary<string, decimal> { ["BTC"] = 30_000m });

        Assert.Equal(600m + 30_000m, equity.Value);
        Assert.Equal(["ETH"], equity.Unpriced);
    }

    [Fact]
    public void Snapshot_and_restore_keep_positions_and_daily_pnl()
    {
        var portfolio = new Portfolio();
        portfolio.Apply(Fill(OrderSide.Buy, 100m, 2m, 0.2m));
        portfolio.Apply(Fill(OrderSide.Sell, 110m, 1m, 0.11m));

        var restored = Portfolio.Restore(portfolio.Snapshot());

        Assert.Equal(portfolio.AllPositions, restored.AllPositions);
        Assert.Equal(portfolio.RealizedPnl, restored.RealizedPnl);
        Assert.Equal(portfolio.RealizedPnlOn(new DateOnly(2024, 3, 1)), restored.RealizedPnlOn(new DateOnly(2024, 3, 1)));
    }
}
