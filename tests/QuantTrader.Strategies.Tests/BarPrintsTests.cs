using QuantTrader.Contracts.MarketData;
using QuantTrader.Strategies.Backtesting;
using Xunit;

namespace QuantTrader.Strategies.Tests;

public sealed class BarPrintsTests
{
    private static readonly DateTimeOffset Open = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static Kline Bar(decimal open, decimal high, decimal low, decimal close, decimal volume) =>
        new("binance", "BTCUSDT", "1m", Open, Open.AddMinutes(1).AddMilliseconds(-1), open, high, low, close, volume, 0m, 7, 0m, 0m, true);

    [Fact]
    public void A_bar_that_closed_up_went_down_first_open_low_high_close()
    {
        var prints = BarPrints.Of(Bar(open: 100m, high: 104m, low: 98m, close: 103m, volume: 8m), firstTradeId: 41);

        Assert.Equal([100m, 98m, 104m, 103m], prints.Select(p => p.Price));
        Assert.Equal([41L, 42L, 43L, 44L], prints.Select(p => p.TradeId));
    }

    [Fact]
    public void A_bar_that_closed_down_went_up_first_open_high_low_close()
    {
        var prints = BarPrints.Of(Bar(open: 100m, high: 104m, low: 98m, close: 99m, volume: 8m), firstTradeId: 1);

        Assert.Equal([100m, 104m, 98m, 99m], prints.Select(p => p.Price));
    }

    [Fact]
    public void A_bar_that_closed_where_it_opened_counts_as_up()
    {
        var prints = BarPrints.Of(Bar(open: 100m, high: 101m, low: 99m, close: 100m, volume: 8m), firstTradeId: 1);

        Assert.Equal([100m, 99m, 101m, 100m], prints.Select(p => p.Price));
    }

    [Fact]
    public void Each_print_carries_a_quarter_of_the_volume_at_open_one_third_two_thirds_and_close_time()
    {
        var bar = Bar(open: 100m, high: 104m, low: 98m, close: 103m, volume: 10m);

        var prints = BarPrints.Of(bar, firstTradeId: 1);

        Assert.All(prints, p => Assert.Equal(2.5m, p.Quantity));
        Assert.Equal(bar.Volume, prints.Sum(p => p.Quantity));
        Assert.Equal([Open, Open + (TimeSpan.FromMilliseconds(59_999) / 3), Open + (TimeSpan.FromMilliseconds(59_999) * 2 / 3), bar.CloseTime],
            prints.Select(p => p.Time));
        Assert.All(prints, p => Assert.Equal(("binance", "BTCUSDT"), (p.Exchange, p.Symbol)));
    }

    [Fact]
    public void A_bar_without_volume_gives_no_prints()
    {
        Assert.Empty(BarPrints.Of(Bar(open: 100m, high: 100m, low: 100m, close: 100m, volume: 0m), firstTradeId: 1));
    }
}
