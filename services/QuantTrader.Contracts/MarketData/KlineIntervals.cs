namespace QuantTrader.Contracts.MarketData;

/// <summary>The intervals QuantTrader aggregates, with their length.</summary>
public static class KlineIntervals
{
    public static readonly IReadOnlyDictionary<string, TimeSpan> All = new Dictionary<string, TimeSpan>
    {
        ["1m"] = TimeSpan.FromMinutes(1),
        ["3m"] = TimeSpan.FromMinutes(3),
        ["5m"] = TimeSpan.FromMinutes(5),
        ["15m"] = TimeSpan.FromMinutes(15),
        ["30m"] = TimeSpan.FromMinutes(30),
        ["1h"] = TimeSpan.FromHours(1),
        ["4h"] = TimeSpan.FromHours(4),
        ["1d"] = TimeSpan.FromDays(1),
    };

    public static bool IsKnown(string interval) => All.ContainsKey(interval);
}
