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
        Assert.Equal([trade], TradeMessages.Decode(payload));
        Assert.Equal("binance:BTCUSDT:7", TradeMessages.MessageId([trade]));
    }

    [Fact]
    public void Several_trades_are_an_array_with_the_first_and_last_id_as_message_id()
    {
        Trade[] trades = [T(7), T(8), T(9)];
        var payload = TradeMessages.Encode(trades);

        Assert.Equal((byte)'[', payload[0]);
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

/// <summary>The hand-written codec against the serializer it stands in for: same bytes out, same trades in.</summary>
public sealed class TradeJsonTests
{
    private static readonly string[] Symbols = ["BTCUSDT", "ETHUSDT", "1000PEPEUSDT"];

    [Property(MaxTest = 300)]
    public bool Encoding_gives_the_serializers_bytes_and_decoding_gives_the_trade_back(long id, decimal price, decimal quantity, bool buy, int millis, byte ticks, int count, byte symbol)
    {
        var time = DateTimeOffset.FromUnixTimeMilliseconds(1_600_000_000_000L + Math.Abs((long)millis)).AddTicks(ticks % 3 == 0 ? 0 : ticks);
        var trade = new Trade(symbol % 2 == 0 ? "binance" : "okx", Symbols[symbol % Symbols.Length], id, price, quantity,
            buy ? TakerSide.Buy : TakerSide.Sell, time, count);
        var expected = JsonSerializer.SerializeToUtf8Bytes(trade, QuantTrader.Contracts.Messaging.ContractsJsonContext.Wire.Trade);
        var expectedArray = JsonSerializer.SerializeToUtf8Bytes(new[] { trade, trade with { TradeId = id + 1 } },
            QuantTrader.Contracts.Messaging.ContractsJsonContext.Wire.TradeArray);

        return TradeMessages.Encode([trade]).AsSpan().SequenceEqual(expected)
            && TradeMessages.Encode([trade, trade with { TradeId = id + 1 }]).AsSpan().SequenceEqual(expectedArray)
            && TradeMessages.Decode(expected).Single() == trade
            && TradeMessages.Decode(expectedArray).SequenceEqual([trade, trade with { TradeId = id + 1 }]);
    }

    [Theory]
    // Shapes the fast reader does not take; the serializer does, as it always has.
    [InlineData("""{"Exchange":"binance","Symbol":"BTCUSDT","TradeId":5,"Price":1.5,"Quantity":2,"Side":"sell","Time":"2024-03-01T00:01:00+01:00"}""")]
    [InlineData("""{"exchange":"binance","symbol":"BTCUSDT","tradeId":5,"price":"1.5","quantity":2,"side":"sell","time":"2024-02-29T23:01:00Z"}""")]
    [InlineData("""{"exchange":"binance","symbol":"BTCUSDT","tradeId":5,"price":1.5,"quantity":2,"side":"SELL","time":"2024-02-29T23:01:00Z","extra":[1,2]}""")]
    public void Other_spellings_of_a_trade_still_read_as_before(string json)
    {
        var trade = Assert.Single(TradeMessages.Decode(System.Text.Encoding.UTF8.GetBytes(json)));
        Assert.Equal(new Trade("binance", "BTCUSDT", 5, 1.5m, 2m, TakerSide.Sell, new DateTimeOffset(2024, 2, 29, 23, 1, 0, TimeSpan.Zero)), trade);
    }

    [Fact]
    public void A_missing_field_is_the_serializers_call_as_before()
    {
        var trade = Assert.Single(TradeMessages.Decode("""{"exchange":"binance","tradeId":5,"price":1.5,"quantity":2,"side":"buy","time":"2024-02-29T23:01:00Z"}"""u8));
        Assert.Null(trade.Symbol); // what consumers have always been handed, and refuse (persistence dead-letters it)
    }
}
