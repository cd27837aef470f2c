using QuantTrader.Indicators;

namespace QuantTrader.Indicators.Tests.Indicators;

/// <summary>
/// Every indicator reproduces the full Stock.Indicators series on the 502 reference bars: same warm-up
/// (a value exists exactly where the reference has one) and each value within max(1e-9, 1e-12·|expected|)
/// — absolute 1e-9 for price-scale series, relative 1e-12 for large cumulative ones (OBV ~1e9).
/// </summary>
public sealed class ReferenceSeriesTests
{
    public static TheoryData<string, string, string> Series => new()
    {
        // indicator (catalog defaults = reference parameters), output key, reference file:field
        { "sma", "value", "sma:sma" },
        { "ema", "value", "ema:ema" },
        { "wma", "value", "wma:wma" },
        { "dema", "value", "dema:dema" },
        { "tema", "value", "tema:tema" },
        { "smma", "value", "smma:smma" },
        { "rsi", "value", "rsi:rsi" },
        { "macd", "macd", "macd:macd" },
        { "macd", "signal", "macd:signal" },
        { "macd", "histogram", "macd:histogram" },
        { "bb", "upper", "bb:upperBand" },
        { "bb", "middle", "bb:sma" },
        { "bb", "lower", "bb:lowerBand" },
        { "atr", "value", "atr:atr" },
        { "stoch", "k", "stoch:k" },
        { "stoch", "d", "stoch:d" },
        { "adx", "value", "adx:adx" },
        { "adx", "pdi", "adx:pdi" },
        { "adx", "mdi", "adx:mdi" },
        { "obv", "value", "obv:obv" },
        { "cci", "value", "cci:cci" },
        { "willr", "value", "willr:williamsR" },
        { "mfi", "value", "mfi:mfi" },
        { "stdev", "value", "stdev:stdDev" },
        { "roc", "value", "roc:roc" },
        { "vwap", "value", "vwap:vwap" },
    };

    [Theory]
    [MemberData(nameof(Series))]
    public void Matches_reference_series_with_identical_warm_up(string indicator, string output, string reference)
    {
        var (file, field) = (reference.Split(':')[0], reference.Split(':')[1]);
        var expected = Fixtures.ExpectedSeries(file, field);
        var bars = Fixtures.DefaultBars;
        Assert.Equal(bars.Count, expected.Length);

        var sut = IndicatorCatalog.Create(indicator, new Dictionary<string, string>());
        for (var i = 0; i < bars.Count; i++)
        {
            sut.Update(bars[i]);
            var outputs = sut.Outputs;
            if (expected[i] is not { } want)
            {
                Assert.False(outputs.ContainsKey(output), $"{indicator}.{output} defined at bar {i}, reference starts later");
                continue;
            }

            Assert.True(outputs.TryGetValue(output, out var got), $"{indicator}.{output} missing at bar {i}, reference has {want}");
            var tolerance = Math.Max(1e-9, 1e-12 * Math.Abs(want));
            Assert.True(Math.Abs(got - want) <= tolerance, $"{indicator}.{output} at bar {i}: got {got:R}, expected {want:R}");
        }
    }

    [Theory]
    [InlineData("sma", 19)]
    [InlineData("ema", 19)]
    [InlineData("wma", 13)]
    [InlineData("dema", 13)]
    [InlineData("tema", 19)]
    [InlineData("smma", 19)]
    [InlineData("rsi", 14)]
    [InlineData("macd", 33)]
    [InlineData("bb", 19)]
    [InlineData("atr", 14)]
    [InlineData("stoch", 17)]
    [InlineData("adx", 27)]
    [InlineData("obv", 0)]
    [InlineData("cci", 19)]
    [InlineData("willr", 13)]
    [InlineData("mfi", 14)]
    [InlineData("stdev", 13)]
    [InlineData("roc", 14)]
    [InlineData("vwap", 0)]
    public void Update_reports_ready_exactly_when_every_output_is_defined(string indicator, int firstReadyBar)
    {
        var sut = IndicatorCatalog.Create(indicator, new Dictionary<string, string>());
        var descriptor = IndicatorCatalog.Descriptors.Single(d => d.Name == indicator);
        for (var i = 0; i < 60; i++)
        {
            var ready = sut.Update(Fixtures.DefaultBars[i]);
            Assert.Equal(i >= firstReadyBar, ready);
            Assert.Equal(ready, sut.IsReady);
            if (ready)
            {
                Assert.Equal(descriptor.Outputs.Order(), sut.Outputs.Keys.Order());
            }
        }
    }

    [Fact]
    public void Typed_properties_agree_with_reference()
    {
        var macd = new Macd();
        var bands = new BollingerBands(20, 2d);
        var stoch = new Stochastic(14, 3, 3);
        var obv = new Obv();
        var vwap = new Vwap();
        foreach (var bar in Fixtures.DefaultBars)
        {
            macd.Update(bar);
            bands.Update(bar);
            stoch.Update(bar);
            obv.Update(bar);
            vwap.Update(bar);
        }

        var last = Fixtures.DefaultBars.Count - 1;
        Assert.Equal(Fixtures.ExpectedSeries("macd", "macd")[last]!.Value, macd.Line, 9);
        Assert.Equal(Fixtures.ExpectedSeries("macd", "signal")[last]!.Value, macd.Signal, 9);
        Assert.Equal(Fixtures.ExpectedSeries("macd", "histogram")[last]!.Value, macd.Histogram, 9);
        Assert.Equal(Fixtures.ExpectedSeries("bb", "upperBand")[last]!.Value, bands.Upper, 9);
        Assert.Equal(Fixtures.ExpectedSeries("bb", "lowerBand")[last]!.Value, bands.Lower, 9);
        Assert.Equal(Fixtures.ExpectedSeries("stoch", "d")[last]!.Value, stoch.D, 9);
        // OBV is a sum of whole volumes: exact.
        Assert.Equal((decimal)Fixtures.ExpectedSeries("obv", "obv")[last]!.Value, obv.Value);
        Assert.Equal(Fixtures.ExpectedSeries("vwap", "vwap")[last]!.Value, (double)vwap.Value, 9);
    }

    [Fact]
    public void Explicit_parameters_change_the_warm_up()
    {
        var sut = IndicatorCatalog.Create("macd", new Dictionary<string, string> { ["fast"] = "3", ["slow"] = "5", ["signal"] = "2" });
        var readyAt = Fixtures.DefaultBars.Select((bar, i) => (ready: sut.Update(bar), i)).First(x => x.ready).i;
        Assert.Equal(5, readyAt); // line from bar slow−1 = 4, signal from bar slow+signal−2 = 5
    }
}
