using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using QuantTrader.MarketData.Normalization;
using QuantTrader.MarketData.Parsing;

namespace QuantTrader.MarketData.Tests;

/// <summary>
/// The single-pass trade readers must never change an outcome: whenever they answer, the answer equals what the
/// <c>JsonDocument</c> path gives for the same bytes, and real trade frames must all take the single pass.
/// </summary>
public sealed class SinglePassParsingTests
{
    private readonly BinanceMessageParser _binance = new();
    private readonly OkxMessageParser _okx = new();

    [Fact]
    public void Every_binance_capture_trade_takes_the_single_pass_and_agrees_with_the_document_path()
    {
        var fast = 0;
        foreach (var frame in Capture.Read(Capture.BinanceSpot))
        {
            var utf8 = Encoding.UTF8.GetBytes(frame.Json);
            var slow = _binance.ParseDocument(utf8);
            var single = _binance.TryParseTrade(utf8);
            if (single is not null)
            {
                fast++;
                AssertSame(slow, single);
            }
        }

        Assert.Equal(1910, fast);
    }

    [Fact]
    public void Every_okx_capture_trade_frame_takes_the_single_pass_and_agrees_with_the_document_path()
    {
        var fast = 0;
        foreach (var frame in Capture.Read(Capture.Okx))
        {
            var utf8 = Encoding.UTF8.GetBytes(frame.Json);
            var slow = _okx.ParseDocument(utf8);
            var single = _okx.TryParseTrades(utf8);
            if (single is not null)
            {
                fast++;
                AssertSame(slow, single);
            }
        }

        // 80 frames: 6 acks and 5 unknown instruments go the general way.
        Assert.Equal(69, fast);
    }

    [Theory]
    [InlineData("""{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1.50","q":"2","T":1617566591314,"m":true}}""")]
    [InlineData("""{"stream":"btcusdt@trade","data":{"m":false,"T":1617566591314,"q":"2","p":"1.50","t":1,"s":"btcusdt","e":"trade"}}""")]
    [InlineData("""{"data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"2","T":1617566591314,"m":true},"stream":"btcusdt@trade"}""")]
    [InlineData("""{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"2","T":1617566591314,"m":true},"extra":1}""")]
    [InlineData("""{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","t":1,"p":"1","p":"3","q":"2","T":1617566591314,"m":true}}""")]
    [InlineData("""{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTC\u0055SDT","t":1,"p":"1","q":"2","T":1617566591314,"m":true}}""")]
    [InlineData("""{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","t":1,"p":"1\u002e5","q":"2","T":1617566591314,"m":true}}""")]
    [InlineData("""{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","t":1,"p":1.5,"q":"2","T":1617566591314,"m":true}}""")]
    [InlineData("""{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","t":1,"p":".5","q":"2.","T":1617566591314,"m":true}}""")]
    [InlineData("""{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","t":1,"p":"+1","q":"0002.000","T":1617566591314,"m":true,"x":{"y":[1,2]}}}""")]
    [InlineData("""{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","t":1,"p":"12345678901234567890.5","q":"2","T":1617566591314,"m":true}}""")]
    [InlineData("""{"e":"aggTrade","E":1,"s":"ETHUSDT","a":9,"p":"1","q":"2","f":5,"l":5,"T":1617566591314,"m":false}""")]
    [InlineData("""{"e":"aggTrade","E":1,"s":"ETHUSDT","a":9,"p":"1","q":"2","f":5,"l":5,"T":1617566591314,"m":false,"stream":"x"}""")]
    [InlineData("""{"e":"aggTrade","E":1,"s":"ETHUSDT","a":9,"p":"1","q":"2","f":5,"l":5,"T":1617566591314,"m":false,"error":{"code":1}}""")]
    [InlineData("""{"e":"aggTrade","s":"ETHUSDT","a":9,"p":"1","q":"2","f":5,"l":5,"T":1617566591314,"m":false} {}""")]
    [InlineData("""  {"e":"trade","s":"ETHUSDT","t":9,"p":"1","q":"2","T":1617566591314,"m":false}  """)]
    [InlineData("""{"e":"trade","s":"ETHUSDT","t":9.0,"p":"1","q":"2","T":1617566591314,"m":false}""")]
    [InlineData("""{"e":"trade","s":"ETHUSDT","t":9,"p":"1","q":"2","T":"1617566591314","m":false}""")]
    [InlineData("""{"e":"trade","s":"ETHUSDTX","t":9,"p":"1","q":"2","T":1617566591314,"m":false}""")]
    [InlineData("""{"e":"trade","s":"ÉTHUSDT","t":9,"p":"1","q":"2","T":1617566591314,"m":false}""")]
    [InlineData("""{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":01,"s":"BTCUSDT","a":1,"p":"1","q":"1","f":1,"l":1,"T":1617566591314,"m":true,"M":true}}""")]
    [InlineData("""{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1,"s":"BTCUSDT","a":1,"p":"1","q":"1","f":1,"l":1,"T":1617566591314,"m":true,"M":true}}}""")]
    [InlineData("""{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1,"s":"BTCUSDT","a":1,"p":"1","q":"1","f":2,"l":1,"T":1617566591314,"m":true,"M":true}}""")]
    [InlineData("""{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1,"s":"BTCUSDT","a":1,"p":"1","q":"1","f":1,"l":1,"T":1617566591314,"m":true,"M":true}} """)]
    [InlineData("""{"stream":"BTCUSDT@trade","data":{"e":"trade","E":1,"s":"btcusdt","t":-1,"p":"1","q":"1","T":1617566591314,"m":false,"M":true}}""")]
    [InlineData("""{"stream":"ethusdt","data":{"e":"trade","s":"ETHUSDT","t":9,"p":"1","q":"2","T":1617566591314,"m":false}}""")]
    public void Binance_unusual_frames_give_what_the_document_path_gives(string frame)
    {
        var utf8 = Encoding.UTF8.GetBytes(frame);
        AssertSame(_binance.ParseDocument(utf8), _binance.Parse(utf8));
        AssertSame(_binance.ParseDocument(utf8), _binance.Parse(frame));
    }

    [Theory]
    [InlineData("""{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"7","px":"30236","sz":"0.0002","side":"buy","ts":"1652459224818"},{"instId":"ETH-USDT","tradeId":9,"px":"1.5","sz":"3","side":"sell","ts":1652459224819,"count":"2"}]}""")]
    [InlineData("""{"arg":{"channel":"trades-all","instId":"BTC-USDT"},"data":[{"tradeId":"7","px":"30236","sz":"0.0002","side":"buy","ts":"1652459224818","count":""}]}""")]
    [InlineData("""{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"tradeId":"7","px":"30236","sz":"0.0002","side":"buy","ts":"1652459224818","count":null}]}""")]
    [InlineData("""{"data":[{"instId":"BTC-USDT","tradeId":"7","px":"30236","sz":"0.0002","side":"buy","ts":"1652459224818"}],"arg":{"channel":"trades","instId":"BTC-USDT"}}""")]
    [InlineData("""{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[]}""")]
    [InlineData("""{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[]}""")]
    [InlineData("""{"arg":{"channel":"trades","instId":"BTC-USDT"},"event":"subscribe"}""")]
    [InlineData("""{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC\u002dUSDT","tradeId":"7","px":"30236","sz":"0.0002","side":"buy","ts":"1652459224818"}]}""")]
    [InlineData("""{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"7","tradeId":"8","px":"30236","sz":"0.0002","side":"buy","ts":"1652459224818"}]}""")]
    [InlineData("""{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"-7","px":"30236","sz":"0.0002","side":"buy","ts":"1652459224818"}]}""")]
    [InlineData("""{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"7","px":"30236","sz":"0.0002","side":"BUY","ts":"1652459224818"}]}""")]
    [InlineData("""{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"7","px":"30236","sz":"0.0002","side":"buy","ts":"1652459224818","count":"100001"}]}""")]
    [InlineData("""{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"7","px":"30236","sz":"0.0002","side":"buy","ts":"1652459224818"}]} x""")]
    [InlineData("""{"arg":{"channel":"trades"},"data":[{"tradeId":"7","px":"30236","sz":"0.0002","side":"buy","ts":"1652459224818"}]}""")]
    public void Okx_unusual_frames_give_what_the_document_path_gives(string frame)
    {
        var utf8 = Encoding.UTF8.GetBytes(frame);
        AssertSame(_okx.ParseDocument(utf8), _okx.Parse(utf8));
        AssertSame(_okx.ParseDocument(utf8), _okx.Parse(frame));
    }

    [Fact]
    public void A_registration_that_drops_a_spelling_is_seen_by_the_single_pass()
    {
        var symbols = SymbolNormalizer.CreateDefault();
        var parser = new OkxMessageParser(symbols);
        const string frame = """{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"tradeId":"7","px":"1","sz":"1","side":"buy","ts":"1652459224818"}]}""";
        Assert.IsType<TradesParsed>(parser.Parse(frame));

        // BTCUSDT re-registered as BTCU/SDT is spelled BTCU-SDT on OKX: BTC-USDT stops resolving.
        symbols.Register("okx", "BTCU", "SDT", 0.01m, 0.00001m, 5m);
        Assert.Equal(RejectKind.UnknownSymbol, Assert.IsType<Rejected>(parser.Parse(frame)).Kind);
    }

    /// <summary>Digit strings with an optional point parse to the value and the scale <c>decimal.Parse</c> gives.</summary>
    [Property(MaxTest = 500)]
    public void Plain_decimal_reader_matches_decimal_parse(NonNegativeInt integer, NonNegativeInt fraction, byte zeros, bool point)
    {
        var text = point
            ? $"{integer.Get}.{fraction.Get}{new string('0', zeros % 12)}"
            : $"{new string('0', zeros % 3)}{integer.Get}";
        var expected = decimal.Parse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        var ok = Utf8Fields.TryPositiveDecimal(Encoding.ASCII.GetBytes(text), out var actual);
        Assert.Equal(expected > 0, ok);
        if (ok)
        {
            Assert.Equal(decimal.GetBits(expected), decimal.GetBits(actual));
        }
    }

    private static void AssertSame(ParseResult expected, ParseResult actual)
    {
        if (expected is TradesParsed e && actual is TradesParsed a)
        {
            Assert.Equal(e.Trades, a.Trades);
            Assert.Equal(
                e.Trades.Select(t => decimal.GetBits(t.Trade.Price).Concat(decimal.GetBits(t.Trade.Quantity))).SelectMany(b => b),
                a.Trades.Select(t => decimal.GetBits(t.Trade.Price).Concat(decimal.GetBits(t.Trade.Quantity))).SelectMany(b => b));
            return;
        }

        Assert.Equal(expected, actual);
    }
}
