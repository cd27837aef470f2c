using System.Text;
using QuantTrader.Contracts.MarketData;
using QuantTrader.MarketData.Parsing;

namespace QuantTrader.MarketData.Tests;

public sealed class BinanceMessageParserTests
{
    private const string AggTrade =
        """{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1617566591315,"s":"BTCUSDT","a":665076760,"p":"58001.03000000","q":"0.08620500","f":745522877,"l":745522880,"T":1617566591314,"m":true,"M":true}}""";

    // Shape of the documented <symbol>@trade event.
    private const string RawTrade =
        """{"stream":"ethusdt@trade","data":{"e":"trade","E":1672515782136,"s":"ETHUSDT","t":12345,"p":"2063.88000000","q":"0.50000000","T":1672515782134,"m":false,"M":true}}""";

    private readonly BinanceMessageParser _parser = new();

    [Fact]
    public void Every_line_of_the_capture_parses_and_none_is_rejected()
    {
        var frames = Capture.Read(Capture.BinanceSpot);
        Assert.Equal(2028, frames.Count);

        var trades = 0;
        var ignored = 0;
        foreach (var frame in frames)
        {
            // Both entry points must agree: the service hands the parser raw UTF-8 from the socket.
            var result = _parser.Parse(frame.Json);
            Assert.Equal(result, _parser.Parse(Encoding.UTF8.GetBytes(frame.Json)), new ParseResultComparer());
            switch (result)
            {
                case TradesParsed parsed:
                    var trade = Assert.Single(parsed.Trades);
                    Assert.Equal("binance", trade.Trade.Exchange);
                    Assert.Contains(trade.Trade.Symbol, new[] { "BTCUSDT", "ETHUSDT", "DOTUSDT" });
                    trades++;
                    break;
                case Ignored:
                    ignored++;
                    break;
                default:
                    Assert.Fail($"line {frame.LineNumber}: {result}");
                    break;
            }
        }

        Assert.Equal(1910, trades);
        Assert.Equal(118, ignored);
    }

    [Fact]
    public void Capture_klines_parse_as_contract_klines()
    {
        var klines = Capture.Read(Capture.BinanceSpot)
            .Select(f => _parser.ParseKline(f.Json))
            .OfType<KlineParsed>()
            .Select(k => k.Kline)
            .ToList();

        Assert.Equal(118, klines.Count);
        Assert.Equal(3, klines.Count(k => k.Closed));
        var btc = klines.Single(k => k.Closed && k.Symbol == "BTCUSDT");
        Assert.Equal(
            new Kline("binance", "BTCUSDT", "1m",
                DateTimeOffset.FromUnixTimeMilliseconds(1617566580000), DateTimeOffset.FromUnixTimeMilliseconds(1617566639999),
                57994.60m, 58018.03m, 57974.41m, 57999.99m, 23.067122m, 1337913.58654308m, 1020, 11.413347m, 661954.86510045m, true),
            btc);
    }

    [Fact]
    public void AggTrade_becomes_one_trade_standing_for_l_minus_f_plus_one()
    {
        var parsed = Assert.IsType<TradesParsed>(_parser.Parse(AggTrade));
        var single = Assert.Single(parsed.Trades);
        Assert.Equal(
            new Trade("binance", "BTCUSDT", 665076760, 58001.03m, 0.086205m, TakerSide.Sell, DateTimeOffset.FromUnixTimeMilliseconds(1617566591314)),
            single.Trade);
        Assert.Equal(4, single.TradeCount);
    }

    [Fact]
    public void Trade_event_uses_t_as_id_and_m_false_means_taker_bought()
    {
        var parsed = Assert.IsType<TradesParsed>(_parser.Parse(RawTrade));
        var single = Assert.Single(parsed.Trades);
        Assert.Equal(
            new Trade("binance", "ETHUSDT", 12345, 2063.88m, 0.5m, TakerSide.Buy, DateTimeOffset.FromUnixTimeMilliseconds(1672515782134)),
            single.Trade);
        Assert.Equal(1, single.TradeCount);
    }

    [Fact]
    public void Raw_stream_frame_without_the_combined_wrapper_parses_too()
    {
        const string raw = """{"e":"trade","E":1,"s":"SOLUSDT","t":7,"p":"20.5","q":"3","T":1672515782134,"m":true}""";
        var trade = Assert.Single(Assert.IsType<TradesParsed>(_parser.Parse(raw)).Trades).Trade;
        Assert.Equal("SOLUSDT", trade.Symbol);
        Assert.Equal(TakerSide.Sell, trade.Side);
    }

    [Theory]
    [InlineData("""{"result":null,"id":1}""")]
    [InlineData("""{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1,"s":"BTCUSDT","k":{}}}""")]
    [InlineData("""{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]}}""")]
    [InlineData("""{"stream":"btcusdt@bookTicker","data":{"u":400900217,"s":"BTCUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}}""")]
    public void Non_trade_frames_are_ignored(string frame) => Assert.IsType<Ignored>(_parser.Parse(frame));

    [Fact]
    public void Error_reply_is_an_exchange_event()
    {
        var result = _parser.Parse("""{"error":{"code":2,"msg":"Invalid request: unknown variant"},"id":3}""");
        Assert.Equal(new ExchangeEvent(ExchangeEventKind.Error, "2", "Invalid request: unknown variant", null, null), result);
    }

    [Theory]
    [InlineData("", RejectKind.MalformedJson)]
    [InlineData("{", RejectKind.MalformedJson)]
    [InlineData("not json", RejectKind.MalformedJson)]
    [InlineData("[1,2]", RejectKind.MalformedJson)]
    [InlineData("""{"stream":"btcusdt@trade","data":{"e":"trade"}} trailing""", RejectKind.MalformedJson)]
    [InlineData("""{"stream":"btcusdt@trade","data":[]}""", RejectKind.MalformedJson)]
    [InlineData("""{"stream":"foousdt@trade","data":{"e":"trade","E":1,"s":"FOOUSDT","t":1,"p":"1","q":"1","T":1617566591314,"m":true}}""", RejectKind.UnknownSymbol)]
    [InlineData("""{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"abc","q":"1","T":1617566591314,"m":true}}""", RejectKind.InvalidNumber)]
    [InlineData("""{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1e5","q":"1","T":1617566591314,"m":true}}""", RejectKind.InvalidNumber)]
    [InlineData("""{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"","T":1617566591314,"m":true}}""", RejectKind.InvalidNumber)]
    [InlineData("""{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":"x","p":"1","q":"1","T":1617566591314,"m":true}}""", RejectKind.InvalidNumber)]
    [InlineData("""{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"-1","q":"1","T":1617566591314,"m":true}}""", RejectKind.InvalidValue)]
    [InlineData("""{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"0","T":1617566591314,"m":true}}""", RejectKind.InvalidValue)]
    [InlineData("""{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1617566591,"m":true}}""", RejectKind.InvalidValue)]
    [InlineData("""{"stream":"ethusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1617566591314,"m":true}}""", RejectKind.InvalidValue)]
    [InlineData("""{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1617566591314}}""", RejectKind.MissingField)]
    [InlineData("""{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1617566591314,"m":"true"}}""", RejectKind.MissingField)]
    [InlineData("""{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"t":1,"p":"1","q":"1","T":1617566591314,"m":true}}""", RejectKind.MissingField)]
    [InlineData("""{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1,"s":"BTCUSDT","a":1,"p":"1","q":"1","f":10,"l":9,"T":1617566591314,"m":true}}""", RejectKind.InvalidValue)]
    public void Bad_frames_are_rejected_with_the_right_kind(string frame, RejectKind kind)
    {
        var rejected = Assert.IsType<Rejected>(_parser.Parse(frame));
        Assert.Equal(kind, rejected.Kind);
        Assert.False(string.IsNullOrWhiteSpace(rejected.Reason));
    }

    [Fact]
    public void A_symbol_registered_later_is_parsed()
    {
        var symbols = Normalization.SymbolNormalizer.CreateDefault();
        var parser = new BinanceMessageParser(symbols);
        const string frame = """{"e":"trade","E":1,"s":"PEPEUSDT","t":1,"p":"0.00001234","q":"1000000","T":1617566591314,"m":true}""";
        Assert.Equal(RejectKind.UnknownSymbol, Assert.IsType<Rejected>(parser.Parse(frame)).Kind);

        symbols.Register("binance", "PEPE", "USDT", 0.00000001m, 1m, 1m);
        Assert.Equal(0.00001234m, Assert.Single(Assert.IsType<TradesParsed>(parser.Parse(frame)).Trades).Trade.Price);
    }

    /// <summary>Records holding lists compare by reference; compare the trades inside.</summary>
    private sealed class ParseResultComparer : IEqualityComparer<ParseResult>
    {
        public bool Equals(ParseResult? x, ParseResult? y) => (x, y) switch
        {
            (TradesParsed a, TradesParsed b) => a.Trades.SequenceEqual(b.Trades),
            _ => object.Equals(x, y),
        };

        public int GetHashCode(ParseResult obj) => 0;
    }
}
