using QuantTrader.Contracts.MarketData;
using QuantTrader.Ingestor.Imports;

namespace QuantTrader.Ingestor.Tests;

public sealed class BinanceCsvTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "binance-public-data", name);

    private static List<BinanceCsv.Line> ParseFile(string format, string name) =>
        [.. File.ReadLines(Fixture(name)).Select(l => BinanceCsv.Parse(format, "binance", "ETHUSDT", l, Now))];

    [Fact]
    public void AggTrades_file_with_header_gives_trades_with_counts_and_rejects_the_bad_row_by_field()
    {
        var lines = ParseFile(ImportFormats.AggTrades, "ETHUSDT-aggTrades-2021-04-04-sample.csv");
        Assert.Equal(BinanceCsv.LineKind.Header, lines[0].Kind);
        Assert.Equal(40, lines.Count(l => l.Kind == BinanceCsv.LineKind.Trade));
        var bad = Assert.Single(lines, l => l.Kind == BinanceCsv.LineKind.Error);
        Assert.Contains("price 'not-a-price' is not a number", bad.Error);
        Assert.Equal(11, lines.IndexOf(bad)); // line 12 of the file

        var first = lines[1].Trade!;
        Assert.Equal(new Trade("binance", "ETHUSDT", 291477091, 2064.74m, 1.27218m, TakerSide.Buy,
            DateTimeOffset.FromUnixTimeMilliseconds(1617566591985)), first);
    }

    [Fact]
    public void Trades_file_without_header_and_with_microsecond_times_keeps_the_microseconds()
    {
        var lines = ParseFile(ImportFormats.Trades, "ETHUSDT-trades-2021-04-04-sample-us.csv");
        Assert.All(lines, l => Assert.Equal(BinanceCsv.LineKind.Trade, l.Kind));
        Assert.Equal(20, lines.Count);
        Assert.Equal(346711088, lines[0].Trade!.TradeId);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1617566591985), lines[0].Trade!.Time);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddTicks(1617566591985123L * 10),
            BinanceCsv.Parse(ImportFormats.Trades, "binance", "ETHUSDT", "1,2.5,1,2.5,1617566591985123,true,true", Now).Trade!.Time);
    }

    [Fact]
    public void Klines_file_gives_closed_klines_with_the_interval_from_open_and_close_time()
    {
        var line = Assert.Single(File.ReadLines(Fixture("BTCUSDT-1m-2021-04-04-sample.csv")));
        var kline = BinanceCsv.Parse(ImportFormats.Klines, "binance", "BTCUSDT", line, Now).Kline!;
        Assert.Equal("1m", kline.Interval);
        Assert.Equal(1020, kline.Trades);
        Assert.Equal(57999.99m, kline.Close);
        Assert.True(kline.Closed);
    }

    [Theory]
    [InlineData("1,0,1,1,1617566591985,true,true", "price 0 must be positive")]
    [InlineData("1,2,1,1,123,true,true", "neither epoch milliseconds nor microseconds")]
    [InlineData("1,2,1,1,1617566591985,maybe,true", "is_buyer_maker 'maybe' is not true or false")]
    [InlineData("1,2,1", "expected at least 6 fields, found 3")]
    public void Bad_trade_rows_name_the_problem(string row, string error)
    {
        var line = BinanceCsv.Parse(ImportFormats.Trades, "binance", "BTCUSDT", row, Now);
        Assert.Equal(BinanceCsv.LineKind.Error, line.Kind);
        Assert.Contains(error, line.Error);
    }

    [Theory]
    [InlineData("1,1,1,1,4102444800000,true,true", "time 4102444800000 (2100-01-01T00:00:00.000Z) is outside [2009-01-01, now + 1 min]")]
    [InlineData("1,1,1,1,1199145600000,true,true", "(2008-01-01T00:00:00.000Z) is outside")]
    [InlineData("1,1,1,1,123,true,true", "neither epoch milliseconds nor microseconds")]
    public void A_time_before_2009_or_after_now_plus_a_minute_is_out_of_range(string row, string error)
    {
        var line = BinanceCsv.Parse(ImportFormats.Trades, "binance", "BTCUSDT", row, Now);
        Assert.True(line.TimeOutOfRange);
        Assert.Contains(error, line.Error);
    }

    [Fact]
    public void A_time_up_to_one_minute_ahead_of_now_is_accepted_and_one_later_is_not()
    {
        var ms = Now.AddSeconds(59).ToUnixTimeMilliseconds();
        Assert.Equal(BinanceCsv.LineKind.Trade, BinanceCsv.Parse(ImportFormats.Trades, "binance", "BTCUSDT", $"1,1,1,1,{ms},true,true", Now).Kind);
        var late = Now.AddSeconds(61).ToUnixTimeMilliseconds();
        Assert.True(BinanceCsv.Parse(ImportFormats.Trades, "binance", "BTCUSDT", $"1,1,1,1,{late},true,true", Now).TimeOutOfRange);
    }

    [Fact]
    public void A_kline_closing_in_the_future_is_out_of_range()
    {
        var open = Now.AddMinutes(1).ToUnixTimeMilliseconds();
        var line = BinanceCsv.Parse(ImportFormats.Klines, "binance", "BTCUSDT",
            $"{open},1,1,1,1,1,{open + 59_999},1,1,1,1,0", Now);
        Assert.True(line.TimeOutOfRange);
        Assert.Contains("close_time", line.Error);
    }
}
