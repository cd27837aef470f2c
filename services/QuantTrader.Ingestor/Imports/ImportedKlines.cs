using QuantTrader.Contracts.MarketData;
using QuantTrader.MarketData.Klines;

namespace QuantTrader.Ingestor.Imports;

/// <summary>
/// The klines an import's trades make, once the kline service has built them and persistence has stored them: for
/// every interval, one kline per window from the window of the first trade to that of the last (empty windows close as
/// empty klines; the last window is stored still open once the import has been idle for <c>Klines:HistoryIdle</c>).
/// An import says <c>completed</c> only when all of them can be read (<see cref="ImportRunner"/>).
/// </summary>
public sealed record ImportedKlines(DateTimeOffset FirstTrade, DateTimeOffset LastTrade)
{
    /// <summary>The windows of <paramref name="length"/> the trades fall into or span: first, last and how many.</summary>
    public (DateTimeOffset First, DateTimeOffset Last, long Count) Windows(TimeSpan length)
    {
        var first = KlineAggregator.WindowStart(FirstTrade, length);
        var last = KlineAggregator.WindowStart(LastTrade, length);
        return (first, last, ((last - first).Ticks / length.Ticks) + 1);
    }

    /// <summary>Widens the range by one more imported trade.</summary>
    public static ImportedKlines Including(ImportedKlines? range, DateTimeOffset time) => range is null
        ? new ImportedKlines(time, time)
        : new ImportedKlines(time < range.FirstTrade ? time : range.FirstTrade, time > range.LastTrade ? time : range.LastTrade);

    /// <summary>Every interval QuantTrader aggregates.</summary>
    public static IEnumerable<(string Interval, TimeSpan Length)> Intervals => KlineIntervals.All.Select(i => (i.Key, i.Value));
}
