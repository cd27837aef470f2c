using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;
using QuantTrader.PaperEngine.Engine;
using static QuantTrader.PaperEngine.Tests.Build;

namespace QuantTrader.PaperEngine.Tests;

public sealed class WantedMarketsTests
{
    [Fact]
    public void A_market_is_wanted_while_its_book_holds_open_orders_and_not_after()
    {
        var exchange = Exchange();
        var wanted = new WantedMarkets();
        var subject = Subjects.MarketRaw("binance", "BTCUSDT");
        var book = exchange.GetBook("binance", "BTCUSDT")!;
        wanted.Track(book);
        Assert.False(wanted.Wants(subject));

        exchange.Ledger.Deposit(Alice, "USDT", 10_000m);
        var order = exchange.Submit(Limit(OrderSide.Buy, 0.01m, 50_000m), null).Order!;
        wanted.Track(book);
        Assert.True(wanted.Wants(subject));
        Assert.False(wanted.Wants(Subjects.MarketRaw("binance", "ETHUSDT")));

        exchange.Cancel(Alice, order.Id, T0);
        wanted.Track(book);
        Assert.False(wanted.Wants(subject));
    }
}
