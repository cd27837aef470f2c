namespace QuantTrader.Performance;

/// <summary>
/// Summary of an equity curve and its closed trades. Ratios are null where undefined (fewer than two
/// returns, zero volatility, no drawdown, no losing trades…), so the report serialises without NaN/∞.
/// Formulas: see <see cref="ReturnStatistics"/> and <see cref="TradeStatistics"/>.
/// </summary>
/// <param name="Periods">Number of per-period returns (equity points − 1).</param>
/// <param name="Start">Time of the first equity point, if any.</param>
/// <param name="End">Time of the last equity point, if any.</param>
/// <param name="StartEquity">First equity value (starting capital).</param>
/// <param name="EndEquity">Last equity value.</param>
/// <param name="TotalReturn">EndEquity/StartEquity − 1 (compounded per-period returns).</param>
/// <param name="AnnualReturn">CAGR: (1 + TotalReturn)^(PeriodsPerYear/Periods) − 1.</param>
/// <param name="AnnualVolatility">Sample std (n−1) of returns × √PeriodsPerYear.</param>
/// <param name="SharpeRatio">mean(r − rf)/std(r − rf, n−1) × √PeriodsPerYear.</param>
/// <param name="SortinoRatio">mean(r − req) × PeriodsPerYear / DownsideRisk.</param>
/// <param name="DownsideRisk">√mean(min(r − req, 0)²) × √PeriodsPerYear, mean over all returns.</param>
/// <param name="MaxDrawdown">Largest peak-to-trough fall as a positive fraction (0.25 = −25%); the starting equity counts as a peak.</param>
/// <param name="CalmarRatio">AnnualReturn / MaxDrawdown.</param>
/// <param name="OmegaRatio">Σ gains over threshold / Σ losses under threshold.</param>
/// <param name="Stability">R² of a linear fit of cumulative log returns against time.</param>
/// <param name="Alpha">Annualised alpha against <see cref="PerformanceOptions.BenchmarkReturns"/>.</param>
/// <param name="Beta">Beta against <see cref="PerformanceOptions.BenchmarkReturns"/>.</param>
/// <param name="Trades">Closed-trade statistics.</param>
public sealed record PerformanceReport(
    int Periods,
    DateTimeOffset? Start,
    DateTimeOffset? End,
    decimal StartEquity,
    decimal EndEquity,
    double? TotalReturn,
    double? AnnualReturn,
    double? AnnualVolatility,
    double? SharpeRatio,
    double? SortinoRatio,
    double? DownsideRisk,
    double? MaxDrawdown,
    double? CalmarRatio,
    double? OmegaRatio,
    double? Stability,
    double? Alpha,
    double? Beta,
    TradeStatistics Trades);
