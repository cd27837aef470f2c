using QuantTrader.ServiceDefaults.Queries;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Indicators;
using QuantTrader.ServiceDefaults.Problems;

namespace QuantTrader.Kline.Indicators;

/// <summary>
/// <c>GET /api/v1/markets/{exchange}/{symbol}/indicators/{name}</c> over stored closed klines (API.md, docs/klines.md):
/// the indicator is fed <see cref="WarmupBars"/> klines before the first point asked for (from the first stored kline for
/// the cumulative OBV and VWAP), so the values are those of a computation over the whole stored series; points still
/// in warm-up are omitted. A point's <c>time</c> is the open time of its kline.
/// </summary>
public static class IndicatorsApi
{
    public const int DefaultLimit = 500;
    public const int MaxLimit = 1000;

    /// <summary>
    /// Bars read before the first point, at least. Finite-window indicators need only their lookback; the recursive
    /// ones (EMA family, RSI, ATR, ADX, MACD) forget their start geometrically: after 1000 bars an EMA(20)'s seed weighs
    /// (19/21)^1000 ≈ 1e-44, far below the 1e-9 the library is tested to. Twenty periods of the largest parameter are
    /// read when that is more.
    /// </summary>
    public const int WarmupBars = 1000;

    private static readonly HashSet<string> Cumulative = new(StringComparer.OrdinalIgnoreCase) { "obv", "vwap" };
    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase) { "interval", "from", "to", "limit" };
    private static readonly HashSet<string> Exchanges = new(StringComparer.Ordinal) { "binance", "okx" };

    public static WebApplication MapIndicatorsApi(this WebApplication app)
    {
        app.MapGet("/api/v1/markets/{exchange}/{symbol}/indicators/{name}", GetAsync)
            .WithTags("Market data")
            .WithSummary("An indicator series over stored closed klines; warm-up points omitted.");
        return app;
    }

    private static async Task<IResult> GetAsync(
        string exchange, string symbol, string name, HttpRequest request, StoredKlines klines, CancellationToken ct)
    {
        exchange = exchange.ToLowerInvariant();
        if (!Exchanges.Contains(exchange))
        {
            return ProblemResults.Validation("exchange", $"Unknown exchange '{exchange}'; use binance or okx.");
        }

        symbol = symbol.ToUpperInvariant();
        var query = request.Query;
        var interval = query["interval"].ToString();
        if (string.IsNullOrEmpty(interval))
        {
            interval = "1m";
        }
        else if (!KlineIntervals.IsKnown(interval))
        {
            return ProblemResults.Validation("interval", $"Unknown interval '{interval}'; use one of {string.Join(' ', KlineIntervals.All.Keys)}.");
        }

        if (!QueryTime.TryParse(query["from"], out var from))
        {
            return ProblemResults.Validation("from", "'from' must be an ISO-8601 UTC time or epoch milliseconds.");
        }

        if (!QueryTime.TryParse(query["to"], out var to))
        {
            return ProblemResults.Validation("to", "'to' must be an ISO-8601 UTC time or epoch milliseconds.");
        }

        if (from is { } f && to is { } t && t < f)
        {
            return ProblemResults.Validation("to", "'to' is before 'from'.");
        }

        var limit = DefaultLimit;
        if (!string.IsNullOrEmpty(query["limit"]))
        {
            if (!int.TryParse(query["limit"], out limit) || limit < 1)
            {
                return ProblemResults.Validation("limit", "'limit' must be a positive integer.");
            }

            limit = Math.Min(limit, MaxLimit);
        }

        var parameters = query
            .Where(q => !Reserved.Contains(q.Key))
            .ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        IIndicator indicator;
        try
        {
            indicator = IndicatorCatalog.Create(name, parameters);
        }
        catch (ArgumentException ex)
        {
            return ProblemResults.Validation(ex.ParamName ?? "name", ex.Message.Split(" (Parameter", 2)[0]);
        }

        var warmup = Math.Max(WarmupBars, 20 * parameters.Values.Select(v => int.TryParse(v, out var n) ? n : 0).DefaultIfEmpty(0).Max());
        var length = KlineIntervals.All[interval];
        var upTo = to ?? DateTimeOffset.MaxValue.ToUniversalTime();
        List<IndicatorBar> bars;
        if (Cumulative.Contains(name))
        {
            bars = await klines.RangeAsync(exchange, symbol, interval, null, upTo, ct);
        }
        else if (from is { } start)
        {
            var earliest = start.UtcTicks - (length.Ticks * warmup) > DateTimeOffset.MinValue.UtcTicks
                ? start - (length * warmup)
                : DateTimeOffset.MinValue;
            bars = await klines.RangeAsync(exchange, symbol, interval, earliest, upTo, ct);
        }
        else
        {
            bars = await klines.LatestAsync(exchange, symbol, interval, upTo, limit + warmup, ct);
        }

        var points = new List<Dictionary<string, object>>();
        foreach (var bar in bars)
        {
            if (!indicator.Update(bar) || (from is { } s && bar.Time < s))
            {
                continue;
            }

            var point = new Dictionary<string, object>(indicator.Outputs.Count + 1, StringComparer.Ordinal) { ["time"] = bar.Time };
            foreach (var (key, value) in indicator.Outputs)
            {
                point[key] = value;
            }

            points.Add(point);
            if (from is not null && points.Count == limit)
            {
                break;
            }
        }

        // Without 'from', the newest 'limit' points (API.md: lists are ascending either way).
        if (from is null && points.Count > limit)
        {
            points.RemoveRange(0, points.Count - limit);
        }

        return TypedResults.Ok(points);
    }
}
