using Microsoft.Extensions.Logging.Abstractions;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;
using QuantTrader.PaperEngine.Engine;
using static QuantTrader.PaperEngine.Tests.Build;

namespace QuantTrader.PaperEngine.Tests;

public sealed class MarksTrackerTests
{
    private static readonly string BtcSubject = Subjects.MarketRaw("binance", "BTCUSDT");

    private readonly MarksTracker _marks = new(NullLogger<MarksTracker>.Instance);

    [Fact]
    public void A_market_is_marked_at_its_book_last_price()
    {
        var exchange = Exchange();
        exchange.OnTrade(Trade(1, 60_000m));

        Assert.Equal(60_000m, _marks.Marks(exchange)["binance:BTCUSDT"]);
    }

    [Fact]
    public void A_newer_skipped_print_marks_its_market_and_an_older_one_does_not()
    {
        var exchange = Exchange();
        exchange.OnTrade(Trade(5, 60_000m));

        _marks.Skipped(BtcSubject, TradeMessages.Encode([Trade(4, 59_000m)]), 40);
        Assert.Equal(60_000m, _marks.Marks(exchange)["binance:BTCUSDT"]);

        _marks.Skipped(BtcSubject, TradeMessages.Encode([Trade(6, 61_000m), Trade(7, 61_500m)]), 41);
        Assert.Equal(61_500m, _marks.Marks(exchange)["binance:BTCUSDT"]); // a batch's newest print is its last
    }

    [Fact]
    public void Skipped_prints_are_taken_once_with_their_stream_sequence()
    {
        _marks.Skipped(BtcSubject, TradeMessages.Encode([Trade(6, 61_000m)]), 41);
        _marks.Skipped(BtcSubject, TradeMessages.Encode([Trade(7, 61_500m)]), 42);

        var (trade, sequence) = Assert.Single(_marks.TakeSkipped());
        Assert.Equal(7, trade.TradeId);
        Assert.Equal(42ul, sequence);
        Assert.Empty(_marks.TakeSkipped());
    }

    [Fact]
    public void A_malformed_skipped_message_marks_nothing()
    {
        _marks.Skipped(BtcSubject, "not json"u8.ToArray(), 41);

        Assert.Empty(_marks.TakeSkipped());
    }

    [Fact]
    public void An_order_waits_past_the_newest_print_handed_to_the_trade_lane_when_that_is_newer_than_its_own()
    {
        _marks.HandedOver(BtcSubject, Trade(10, 60_000m));

        Assert.Equal(10, _marks.ReferenceFor(BtcSubject, Trade(9, 60_000m))!.TradeId);
        Assert.Equal(11, _marks.ReferenceFor(BtcSubject, Trade(11, 60_000m))!.TradeId);
        Assert.Equal(10, _marks.ReferenceFor(BtcSubject, null)!.TradeId);
        Assert.Null(_marks.ReferenceFor(Subjects.MarketRaw("binance", "ETHUSDT"), null));
    }

    [Fact]
    public void Assets_are_priced_in_the_valuation_asset_by_the_markets_quoting_them_in_it()
    {
        var exchange = Exchange();
        exchange.OnTrade(Trade(1, 60_000m));
        exchange.OnTrade(Trade(1, 3_000m, symbol: "ETHUSDT"));

        var prices = _marks.AssetPrices(exchange, "USDT");

        Assert.Equal(60_000m, prices["BTC"]);
        Assert.Equal(3_000m, prices["ETH"]);
        Assert.Empty(_marks.AssetPrices(exchange, "EUR"));
    }
}
