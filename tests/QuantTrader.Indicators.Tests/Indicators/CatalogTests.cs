using QuantTrader.Indicators;

namespace QuantTrader.Indicators.Tests.Indicators;

public sealed class CatalogTests
{
    private static readonly string[] RestNames =
        ["sma", "ema", "wma", "dema", "tema", "smma", "rsi", "macd", "bb", "atr", "stoch", "adx", "obv", "cci", "willr", "mfi", "stdev", "roc", "vwap"];

    [Fact]
    public void Catalog_lists_every_rest_name()
    {
        Assert.Equal(RestNames.Order(), IndicatorCatalog.Descriptors.Select(d => d.Name));
        foreach (var name in RestNames)
        {
            Assert.Equal(name, IndicatorCatalog.Create(name).Name);
        }
    }

    [Theory]
    [InlineData("sma", "period", "20")]
    [InlineData("ema", "period", "20")]
    [InlineData("rsi", "period", "14")]
    [InlineData("macd", "slow", "26")]
    [InlineData("bb", "stdDev", "2")]
    [InlineData("stoch", "smooth", "3")]
    [InlineData("wma", "period", "14")]
    [InlineData("cci", "period", "20")]
    [InlineData("smma", "period", "20")]
    [InlineData("stdev", "period", "14")]
    [InlineData("dema", "period", "14")]
    [InlineData("tema", "period", "20")]
    [InlineData("roc", "period", "14")]
    public void Descriptors_publish_the_defaults(string name, string parameter, string expected) =>
        Assert.Equal(expected, IndicatorCatalog.Descriptors.Single(d => d.Name == name).Parameters[parameter]);

    [Theory]
    [InlineData("sma", "period", "0")]
    [InlineData("sma", "period", "abc")]
    [InlineData("bb", "stdDev", "-1")]
    [InlineData("bb", "stdDev", "NaN")]
    [InlineData("macd", "slow", "5")] // slow must exceed fast (12)
    [InlineData("stoch", "dPeriod", "0")]
    [InlineData("rsi", "fast", "3")] // rsi takes no 'fast'
    [InlineData("obv", "period", "3")]
    [InlineData("sma", "period", "2000000000")] // a period's state grows with it: bounded by MaxIntegerParameter
    [InlineData("macd", "slow", "1001")]
    public void Bad_parameter_is_named_in_the_exception(string name, string parameter, string value)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() =>
            IndicatorCatalog.Create(name, new Dictionary<string, string> { [parameter] = value }));
        Assert.Equal(parameter, ex.ParamName);
        Assert.Contains(parameter, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_largest_period_allowed_builds_an_indicator()
    {
        var sma = IndicatorCatalog.Create("sma", new Dictionary<string, string> { ["period"] = $"{IndicatorCatalog.MaxIntegerParameter}" });
        Assert.Equal("sma", sma.Name);
    }

    [Fact]
    public void Unknown_indicator_names_the_name_parameter()
    {
        var ex = Assert.Throws<ArgumentException>(() => IndicatorCatalog.Create("ichimoku"));
        Assert.Equal("name", ex.ParamName);
    }

    [Fact]
    public void Names_and_parameter_keys_are_case_insensitive()
    {
        var sut = IndicatorCatalog.Create("BB", new Dictionary<string, string> { ["STDDEV"] = "2.5", ["Period"] = "3" });
        var bars = Fixtures.DefaultBars;
        Assert.False(sut.Update(bars[0]));
        Assert.False(sut.Update(bars[1]));
        Assert.True(sut.Update(bars[2]));
        var closes = bars.Take(3).Select(b => (double)b.Close).ToArray();
        var mean = closes.Average();
        var sigma = Math.Sqrt(closes.Sum(c => (c - mean) * (c - mean)) / 3);
        Assert.Equal(mean + (2.5 * sigma), sut.Outputs["upper"], 9);
    }

    [Fact]
    public void Indicators_are_forward_only()
    {
        var sut = new Sma(3);
        var bar = Fixtures.DefaultBars[1];
        sut.Update(bar);
        Assert.Throws<ArgumentException>(() => sut.Update(bar));
        Assert.Throws<ArgumentException>(() => sut.Update(Fixtures.DefaultBars[0]));
        Assert.Equal(1, sut.BarCount);
    }
}
