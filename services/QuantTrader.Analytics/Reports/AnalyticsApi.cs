using Microsoft.Extensions.Options;
using QuantTrader.Analytics.Equity;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Performance;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Problems;
using QuantTrader.ServiceDefaults.Queries;

namespace QuantTrader.Analytics.Reports;

public sealed record EquityPointView(DateTimeOffset Time, decimal Equity);

/// <summary>The performance statistics of API.md (formulas: docs/analytics.md).</summary>
public sealed record PerformanceView(
    DateTimeOffset? From, DateTimeOffset? To, string Interval, Guid? StrategyId, double PeriodsPerYear,
    int Periods, decimal StartEquity, decimal EndEquity,
    double? TotalReturn, double? Cagr, double? AnnualVolatility, double? Sharpe, double? Sortino, double? DownsideRisk,
    double? MaxDrawdown, double? Calmar, double? Omega, double? Stability, double? Exposure,
    int Trades, int Wins, int Losses, decimal? WinRate, decimal? ProfitFactor, decimal? AverageWin, decimal? AverageLoss,
    decimal? PayoffRatio, decimal? Expectancy, decimal GrossProfit, decimal GrossLoss, decimal NetProfit,
    decimal? LargestWin, decimal? LargestLoss);

public static class AnalyticsApi
{
    /// <summary>At most this many equity points go into one performance computation (e.g. 1m over ~70 days).</summary>
    public const int MaxPerformancePoints = 100_000;

    public static WebApplication MapAnalyticsApi(this WebApplication app)
    {
        var analytics = app.MapGroup("/api/v1/analytics").WithTags("Analytics").RequireCaller();
        analytics.MapGet("/performance", GetPerformanceAsync)
            .WithSummary("Performance statistics of the caller's paper account over [from, to]: equity resampled to 'interval' (default 1d), closed-trade statistics optionally for one strategy.");
        analytics.MapGet("/equity", GetEquityAsync)
            .WithSummary("The caller's equity curve: the last snapshot of each 'interval' bucket (default 1d), oldest first; limit default 500, max 1000.");
        return app;
    }

    private static async Task<IResult> GetEquityAsync(
        HttpContext http, string? from, string? to, string? interval, string? limit, AnalyticsQueries queries, CancellationToken ct)
    {
        if (!ListQuery.TryParse(from, to, limit, out var query, out var problem) || !TryInterval(interval, out var name, out var length, out problem))
        {
            return problem!;
        }
        var points = await queries.EquityAsync(http.GetCaller().UserId, query.From, query.To, length, query.Limit, ct);
        return TypedResults.Ok(points.Select(p => new EquityPointView(p.Time, p.Equity)));
    }

    private static async Task<IResult> GetPerformanceAsync(
        HttpContext http, string? from, string? to, string? strategyId, string? interval,
        AnalyticsQueries queries, IOptions<AnalyticsOptions> options, CancellationToken ct)
    {
        if (!ListQuery.TryParse(from, to, null, out var query, out var problem) || !TryInterval(interval, out var name, out var length, out problem))
        {
            return problem!;
        }
        Guid? strategy = null;
        if (!string.IsNullOrEmpty(strategyId))
        {
            if (!Guid.TryParse(strategyId, out var parsed))
            {
                return ProblemResults.Validation("strategyId", $"'strategyId' must be a strategy id (a UUID); got '{strategyId}'.");
            }
            strategy = parsed;
        }

        var userId = http.GetCaller().UserId;
        var equity = await queries.EquityAsync(userId, query.From, query.To, length, null, ct);
        if (equity.Count > MaxPerformancePoints)
        {
            return ProblemResults.Validation("interval", $"{equity.Count} points of {name} are too many (at most {MaxPerformancePoints}): use a larger interval or a shorter range.");
        }
        var pnls = await queries.ClosedTradePnlsAsync(userId, query.From, query.To, strategy, ct);

        var settings = options.Value;
        var periodsPerYear = TimeSpan.FromDays(settings.DaysPerYear) / length;
        var report = PerformanceCalculator.Compute(equity, pnls, new PerformanceOptions
        {
            PeriodsPerYear = periodsPerYear,
            RiskFreeRate = Math.Pow(1d + settings.RiskFreeRatePerYear, 1d / periodsPerYear) - 1d,
        });
        double? exposure = equity.Count >= 2 ? await queries.ExposureAsync(userId, equity[0].Time, equity[^1].Time, ct) : null;
        var t = report.Trades;
        return TypedResults.Ok(new PerformanceView(
            query.From, query.To, name, strategy, periodsPerYear, report.Periods, report.StartEquity, report.EndEquity,
            report.TotalReturn, report.AnnualReturn, report.AnnualVolatility, report.SharpeRatio, report.SortinoRatio, report.DownsideRisk,
            report.MaxDrawdown, report.CalmarRatio, report.OmegaRatio, report.Stability, exposure,
            t.NumberOfTrades, t.Wins, t.Losses, t.WinRate, t.ProfitFactor, t.AverageWin, t.AverageLoss,
            t.PayoffRatio, t.Expectancy, t.GrossProfit, t.GrossLoss, t.NetProfit, t.LargestWin, t.LargestLoss));
    }

    private static bool TryInterval(string? interval, out string name, out TimeSpan length, out IResult? problem)
    {
        name = string.IsNullOrEmpty(interval) ? "1d" : interval;
        problem = null;
        if (KlineIntervals.All.TryGetValue(name, out length))
        {
            return true;
        }
        problem = ProblemResults.Validation("interval", $"Unknown interval '{interval}': use one of {string.Join(' ', KlineIntervals.All.Keys)}.");
        return false;
    }
}
