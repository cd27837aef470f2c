using QuantTrader.Ingestor.Imports;

namespace QuantTrader.Ingestor.Tests;

public sealed class ImportedKlinesTests
{
    private static readonly DateTimeOffset Day = new(2021, 4, 4, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void An_import_spans_every_window_from_its_first_trade_to_its_last_empty_ones_included()
    {
        ImportedKlines? range = null;
        foreach (var minutes in new[] { 61.5, 0.25, 185.0 })
        {
            range = ImportedKlines.Including(range, Day.AddMinutes(minutes));
        }

        Assert.Equal((Day, Day.AddMinutes(185), 186L), range!.Windows(TimeSpan.FromMinutes(1)));
        Assert.Equal((Day, Day.AddHours(3), 4L), range.Windows(TimeSpan.FromHours(1)));
        Assert.Equal((Day, Day, 1L), range.Windows(TimeSpan.FromDays(1)));
    }

    [Fact]
    public void One_trade_makes_one_kline_per_interval()
    {
        var range = ImportedKlines.Including(null, Day.AddSeconds(30));

        Assert.All(ImportedKlines.Intervals, i => Assert.Equal(1L, range.Windows(i.Length).Count));
        Assert.Equal(8, ImportedKlines.Intervals.Count());
    }
}
