using QuantTrader.Contracts.MarketData;
using QuantTrader.MarketData.Parsing;

namespace QuantTrader.MarketData.Tests;

public sealed class OkxMessageParserTests
{
    private readonly OkxMessageParser _parser = new();

    [Fact]
    public void Capture_parses_into_acks_trades_and_unknown_instruments()
    {
        var frames = Capture.Read(Capture.Okx);
        Assert.Equal(80, frames.Count);

        var results = frames.Select(f => (Frame: f, Result: _parser.Parse(f.Json))).ToList();

        var acks = results.Select(r => r.Result).OfType<ExchangeEvent>().ToList();
        Assert.Equal(6, acks.Count);
        Assert.All(acks, a => Assert.Equal(ExchangeEventKind.Subscribed, a.Kind));
        Assert.All(acks, a => Assert.Equal("trades", a.Channel));
        Assert.Equal(["BTC-USD-220527", "UNI-USD-SWAP", "BTC-USDT"], acks.Take(3).Select(a => a.InstrumentId));

        // Our table has spot pairs only: the swap and the dated future are rejected, loudly.
        var rejected = results.Where(r => r.Result is Rejected).ToList();
        Assert.Equal(5, rejected.Count);
        Assert.All(rejected, r => Assert.Equal(RejectKind.UnknownSymbol, ((Rejected)r.Result).Kind));
        Assert.Equal(4, rejected.Count(r => r.Frame.Json.Contains("BTC-USD-220527", StringComparison.Ordinal)));
        Assert.Single(rejected, r => r.Frame.Json.Contains("UNI-USD-SWAP", StringComparison.Ordinal));

        var trades = results.Select(r => r.Result).OfType<TradesParsed>().SelectMany(t => t.Trades).ToList();
        Assert.Equal(69, trades.Count);
        Assert.All(trades, t => Assert.Equal(1, t.TradeCount));
        Assert.All(trades, t => Assert.Equal(("okx", "BTCUSDT"), (t.Trade.Exchange, t.Trade.Symbol)));
        // Ids in the capture are continuous: nothing lost, nothing invented.
        Assert.Equal(Enumerable.Range(0, 69).Select(i => 338476307L + i), trades.Select(t => t.Trade.TradeId));
        Assert.Equal(
            new Trade("okx", "BTCUSDT", 338476307, 30236m, 0.0002m, TakerSide.Buy, DateTimeOffset.FromUnixTimeMilliseconds(1652459224818)),
            trades[0].Trade);
        Assert.Equal(TakerSide.Sell, trades.Single(t => t.Trade.TradeId == 338476316).Trade.Side);
        Assert.Equal(results.Count, acks.Count + rejected.Count + results.Count(r => r.Result is TradesParsed));
    }

    [Fact]
    public void Aggregated_entry_expands_into_count_trades_ending_at_tradeId()
    {
        const string frame = """{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"130639474","px":"42219.9","sz":"0.0010","side":"buy","ts":"1630048897897","count":"3"}]}""";
        var trades = Assert.IsType<TradesParsed>(_parser.Parse(frame)).Trades.Select(t => t.Trade).ToList();

        Assert.Equal([130639472L, 130639473L, 130639474L], trades.Select(t => t.TradeId));
        // 0.0010 is 10 units of 0.0001: 4 + 3 + 3, the remainder to the lowest id.
        Assert.Equal([0.0004m, 0.0003m, 0.0003m], trades.Select(t => t.Quantity));
        Assert.Equal(0.0010m, trades.Sum(t => t.Quantity));
        Assert.All(trades, t => Assert.Equal(42219.9m, t.Price));
        Assert.All(trades, t => Assert.Equal(TakerSide.Buy, t.Side));
        Assert.All(trades, t => Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1630048897897), t.Time));
    }

    [Fact]
    public void Entries_with_and_without_count_keep_id_order_within_one_message()
    {
        const string frame = """{"arg":{"channel":"trades","instId":"ETH-USDT"},"data":[{"instId":"ETH-USDT","tradeId":"10","px":"2000","sz":"1","side":"sell","ts":"1630048897897","count":"1"},{"instId":"ETH-USDT","tradeId":"12","px":"2001","sz":"0.3","side":"sell","ts":"1630048897898","count":"2"},{"instId":"ETH-USDT","tradeId":"13","px":"2002","sz":"5","side":"buy","ts":"1630048897899"}]}""";
        var trades = Assert.IsType<TradesParsed>(_parser.Parse(frame)).Trades.Select(t => t.Trade).ToList();
        Assert.Equal([10L, 11L, 12L, 13L], trades.Select(t => t.TradeId));
        Assert.Equal([1m, 0.2m, 0.1m, 5m], trades.Select(t => t.Quantity));
    }

    [Theory]
    [InlineData("1", 3, new[] { "0.4", "0.3", "0.3" })]
    [InlineData("0.00000001", 3, new[] { "0.000000004", "0.000000003", "0.000000003" })]
    [InlineData("6", 3, new[] { "2", "2", "2" })]
    [InlineData("7.5", 1, new[] { "7.5" })]
    [InlineData("0.00000938", 2, new[] { "0.00000469", "0.00000469" })]
    public void Split_preserves_the_total_exactly(string total, int count, string[] expected)
    {
        var parts = OkxMessageParser.SplitQuantity(decimal.Parse(total, System.Globalization.CultureInfo.InvariantCulture), count);
        Assert.NotNull(parts);
        Assert.Equal(expected.Select(e => decimal.Parse(e, System.Globalization.CultureInfo.InvariantCulture)), parts);
    }

    [FsCheck.Xunit.Property]
    public bool Split_parts_are_positive_and_add_up(FsCheck.PositiveInt mantissa, byte scale, FsCheck.PositiveInt count)
    {
        var total = new decimal(mantissa.Get, 0, 0, false, (byte)(scale % 12));
        var n = Math.Min(count.Get, 1000);
        var parts = OkxMessageParser.SplitQuantity(total, n);
        return parts is not null
            && parts.Length == n
            && parts.All(p => p > 0)
            && parts.Sum() == total
            && parts.Max() - parts.Min() <= parts.Min(); // even split: parts differ by at most one unit
    }

    [Fact]
    public void Pong_and_events_are_classified()
    {
        Assert.IsType<Pong>(_parser.Parse("pong"));
        Assert.Equal(
            new ExchangeEvent(ExchangeEventKind.Error, "60012", "Invalid request: {\"op\": \"subscribe\", \"argss\":[{ \"channel\" : \"trades\", \"instId\" : \"BTC-USDT\"}]}", null, null),
            _parser.Parse("""{"event":"error","code":"60012","msg":"Invalid request: {\"op\": \"subscribe\", \"argss\":[{ \"channel\" : \"trades\", \"instId\" : \"BTC-USDT\"}]}","connId":"a4d3ae55"}"""));
        Assert.Equal(
            new ExchangeEvent(ExchangeEventKind.Notice, "64008", "The connection will soon be closed for a service upgrade. Please reconnect.", null, null),
            _parser.Parse("""{"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","connId":"a4d3ae55"}"""));
        Assert.Equal(
            new ExchangeEvent(ExchangeEventKind.Unsubscribed, null, null, "trades", "BTC-USDT"),
            _parser.Parse("""{"event":"unsubscribe","arg":{"channel":"trades","instId":"BTC-USDT"},"connId":"a4d3ae55"}"""));
        Assert.Equal(ExchangeEventKind.Other, Assert.IsType<ExchangeEvent>(_parser.Parse("""{"event":"channel-conn-count","channel":"trades","connCount":"2","connId":"abc"}""")).Kind);
    }

    [Fact]
    public void Other_channels_are_ignored()
    {
        Assert.IsType<Ignored>(_parser.Parse("""{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","last":"30000"}]}"""));
    }

    [Theory]
    [InlineData("ping", RejectKind.MalformedJson)]
    [InlineData("{\"arg\":{\"channel\":\"trades\"}}", RejectKind.MalformedJson)]
    [InlineData("""{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":{}}""", RejectKind.MalformedJson)]
    [InlineData("""{"data":[]}""", RejectKind.MalformedJson)]
    [InlineData("""{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1","px":"abc","sz":"1","side":"buy","ts":"1652459224818"}]}""", RejectKind.InvalidNumber)]
    [InlineData("""{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1","px":"1","sz":"1","side":"hold","ts":"1652459224818"}]}""", RejectKind.InvalidValue)]
    [InlineData("""{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1","px":"1","sz":"1","side":"buy"}]}""", RejectKind.MissingField)]
    [InlineData("""{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"5","px":"1","sz":"1","side":"buy","ts":"1652459224818","count":"0"}]}""", RejectKind.InvalidValue)]
    [InlineData("""{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"5","px":"1","sz":"1","side":"buy","ts":"1652459224818","count":"6"}]}""", RejectKind.InvalidValue)]
    [InlineData("""{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"5","px":"1","sz":"1","side":"buy","ts":"1652459224818","count":"x"}]}""", RejectKind.InvalidNumber)]
    [InlineData("""{"arg":{"channel":"trades","instId":"UNI-USD-SWAP"},"data":[{"instId":"UNI-USD-SWAP","tradeId":"12883020","px":"5.123","sz":"100","side":"sell","ts":"1652459215150"}]}""", RejectKind.UnknownSymbol)]
    public void Bad_frames_are_rejected_with_the_right_kind(string frame, RejectKind kind)
    {
        Assert.Equal(kind, Assert.IsType<Rejected>(_parser.Parse(frame)).Kind);
    }

    [Fact]
    public void One_bad_entry_rejects_the_whole_message()
    {
        const string frame = """{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1","px":"1","sz":"1","side":"buy","ts":"1652459224818"},{"instId":"BTC-USDT","tradeId":"2","px":"NaN","sz":"1","side":"buy","ts":"1652459224818"}]}""";
        Assert.Equal(RejectKind.InvalidNumber, Assert.IsType<Rejected>(_parser.Parse(frame)).Kind);
    }

    [Fact]
    public void Entry_without_instId_takes_the_one_from_arg()
    {
        const string frame = """{"arg":{"channel":"trades","instId":"SOL-USDT"},"data":[{"tradeId":"1","px":"50","sz":"2","side":"buy","ts":"1652459224818"}]}""";
        Assert.Equal("SOLUSDT", Assert.Single(Assert.IsType<TradesParsed>(_parser.Parse(frame)).Trades).Trade.Symbol);
    }
}
