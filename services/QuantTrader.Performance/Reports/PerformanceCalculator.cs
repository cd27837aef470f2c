namespace QuantTrader.Performance;

/// <summary>Builds a <see cref="PerformanceReport"/> from an equity curve and closed-trade PnLs.</summary>
public static class PerformanceCalculator
{
    /// <summary>
    /// Computes every statistic of <see cref="PerformanceReport"/>. Per-period returns are
    /// rᵢ = equityᵢ / equityᵢ₋₁ − 1 (computed in decimal, then converted to double); a period after
    /// non-positive equity has an undefined (NaN) return. Max drawdown is measured on the equity values
    /// themselves, with the first point as the initial peak.
    /// </summary>
    public static PerformanceReport Compute(
        IReadOnlyList<EquityPoint> equity,
        IReadOnlyList<decimal> tradePnls,
        PerformanceOptions options)
    {
        ArgumentNullException.ThrowIfNull(equity);
        ArgumentNullException.ThrowIfNull(tradePnls);
        ArgumentNullException.ThrowIfNull(options);

        var returns = ReturnStatistics.ReturnsFromEquity(equity);
        var ppy = options.PeriodsPerYear;
        var maxDrawdown = equity.Count == 0 ? double.NaN : ReturnStatistics.MaxDrawdown(equity);
        var annualReturn = ReturnStatistics.AnnualReturn(returns, ppy);

        double alpha = double.NaN, beta = double.NaN;
        if (options.BenchmarkReturns is { } benchmark)
        {
            (alpha, beta) = ReturnStatistics.AlphaBeta(returns, benchmark, ppy, options.RiskFreeRate);
        }

        return new PerformanceReport(
            Periods: returns.Length,
            Start: equity.Count > 0 ? equity[0].Time : null,
            End: equity.Count > 0 ? equity[^1].Time : null,
            StartEquity: equity.Count > 0 ? equity[0].Equity : 0m,
            EndEquity: equity.Count > 0 ? equity[^1].Equity : 0m,
            TotalReturn: Finite(returns.Length == 0 ? double.NaN : ReturnStatistics.CumulativeReturn(returns)),
            AnnualReturn: Finite(annualReturn),
            AnnualVolatility: Finite(ReturnStatistics.AnnualVolatility(returns, ppy)),
            SharpeRatio: Finite(ReturnStatistics.SharpeRatio(returns, ppy, options.RiskFreeRate)),
            SortinoRatio: Finite(ReturnStatistics.SortinoRatio(returns, ppy, options.RequiredReturn)),
            DownsideRisk: Finite(ReturnStatistics.DownsideRisk(returns, ppy, options.RequiredReturn)),
            MaxDrawdown: Finite(maxDrawdown),
            CalmarRatio: Finite(maxDrawdown > 0d ? annualReturn / maxDrawdown : double.NaN),
            OmegaRatio: Finite(ReturnStatistics.OmegaRatio(returns, ppy, options.RiskFreeRate, options.OmegaRequiredReturn)),
            Stability: Finite(ReturnStatistics.StabilityOfTimeseries(returns)),
            Alpha: Finite(alpha),
            Beta: Finite(beta),
            Trades: TradeStatistics.From(tradePnls));
    }

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}
