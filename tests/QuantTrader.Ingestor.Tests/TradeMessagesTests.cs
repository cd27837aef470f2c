using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Xunit;
using QuantTrader.Contracts.MarketData;

namespace QuantTrader.Ingestor.Tests;

/// <summary>The <c>market.raw</c> payload: one trade as an object, several of one market as an array.</summary>
public sealed class TradeMessagesTests
{
    private static Trade T(long id, string symbol = "BTCUSDT", string exchange = "binance") =>
        new(exchange, symbol, id, 100.5m + id, 0.25m, id % 2 == 0 ? TakerSide.Buy : TakerSide.Sell,
            DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + id), 1 + (int)(id % 3));

    [Fact]
    public void One_trade_is_the_object_every_consumer_has_always_read_with_the_trade_id_as_message_id()
    {
        var trade = T(7);
        var payload = TradeMessages.Encode([trade]);

        Assert.Equal((byte)'{', payload[0]);
        Assert.False(TradeMessages.IsBatch(payload));
        Assert.Equal([trade], TradeMessages.Decode(payload));
        Assert.Equal("binance:BTCUSDT:7", TradeMessages.MessageId([trade]));
    }

    [Fact]
    public void Several_trades_are_an_array_with_the_first_and_last_id_as_message_id()
    {
        Trade[] trades = [T(7), T(8), T(9)];
        var payload = TradeMessages.Encode(trades);

        Assert.True(TradeMessages.IsBatch(payload));
        Assert.Equal(trades, TradeMessages.Decode(payload));
        Assert.Equal("binance:BTCUSDT:7-9", TradeMessages.MessageId(trades));
    }

    [Theory]
    [InlineData("null")]
    [InlineData("[null]")]
    [InlineData("[{\"exchange\":\"binance\"}, 5]")]
    [InlineData("\"trade\"")]
    [InlineData("")]
    public void Anything_but_a_trade_or_an_array_of_trades_is_refused(string json) =>
        Assert.ThrowsAny<JsonException>(() => TradeMessages.Decode(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void Grouping_keeps_each_markets_order_and_caps_the_size()
    {
        Trade[] trades = [T(1), T(1, "ETHUSDT"), T(2), T(1, "BTCUSDT", "okx"), T(3), T(2, "ETHUSDT"), T(4), T(5)];
        var messages = TradeMessages.Group(trades, maxPerMessage: 3);

        Assert.Equal(
            ["binance:BTCUSDT:1-3", "binance:BTCUSDT:4-5", "binance:ETHUSDT:1-2", "okx:BTCUSDT:1"],
            messages.Select(TradeMessages.MessageId));
    }

    [Property(MaxTest = 200)]
    public bool Grouping_loses_reorders_and_mixes_nothing(PositiveInt max, NonNegativeInt[] draws)
    {
        string[] symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT"];
        var next = new Dictionary<string, long>();
        var trades = draws.Select(d =>
        {
            var symbol = symbols[d.Get % symbols.Length];
            var id = next[symbol] = next.GetValueOrDefault(symbol) + 1;
            return T(id, symbol);
        }).ToArray();
        var cap = Math.Min(max.Get, 50);

        var messages = TradeMessages.Group(trades, cap);
        var sameMarket = messages.All(m => m.All(t => t.Symbol == m[0].Symbol && t.Exchange == m[0].Exchange));
        var sized = messages.All(m => m.Length >= 1 && m.Length <= cap);
        var perMarketOrder = symbols.All(s =>
            messages.SelectMany(m => m).Where(t => t.Symbol == s).SequenceEqual(trades.Where(t => t.Symbol == s)));
        var roundTrip = messages.All(m => TradeMessages.Decode(TradeMessages.Encode(m)).SequenceEqual(m));
        return sameMarket && sized && perMarketOrder && roundTrip && messages.Sum(m => m.Length) == trades.Length;
    }
}
