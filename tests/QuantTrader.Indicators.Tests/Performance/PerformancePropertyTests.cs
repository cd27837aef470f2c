using FsCheck.Xunit;
using QuantTrader.Performance;

namespace QuantTrader.Indicators.Tests.Performance;

public sealed class PerformancePropertyTests
{
    [Property(MaxTest = 300)]
    public bool Max_drawdown_is_a_fraction_and_zero_when_never_falling(int[] moves)
    {
        // Returns in (−1, 1): any mix of gains and losses.
        var returns = moves.Select(m => (m % 1000) / 1001d).ToArray();
        var drawdown = ReturnStatistics.MaxDrawdown(returns);
        var rising = returns.Select(Math.Abs).ToArray();
        return drawdown is >= 0d and <= 1d
            && ReturnStatistics.MaxDrawdown(rising) == 0d
            && (returns.Any(r => r < 0d) || drawdown == 0d);
    }

    [Property(MaxTest = 300)]
    public bool Equity_drawdown_is_a_fraction_zero_for_rising_curves_and_agrees_with_returns(int[] moves)
    {
        var equity = new List<decimal> { 1000m };
        foreach (var m in moves)
        {
            equity.Add(Math.Max(0.01m, equity[^1] * (1m + ((m % 900) / 1000m))));
        }

        var curve = PerformanceCalculatorTests.Curve([.. equity]);
        var drawdown = ReturnStatistics.MaxDrawdown(curve);
        var rising = PerformanceCalculatorTests.Curve([.. equity.Select((_, i) => 1000m + i)]);
        var fromReturns = ReturnStatistics.MaxDrawdown(ReturnStatistics.ReturnsFromEquity(curve));
        return drawdown is >= 0d and <= 1d
            && ReturnStatistics.MaxDrawdown(rising) == 0d
            && Math.Abs(drawdown - fromReturns) < 1e-9;
    }

    [Property(MaxTest = 300)]
    public bool Sharpe_and_sortino_are_scale_invariant(int[] moves, byte scaleSeed)
    {
        var returns = moves.Select(m => (m % 500) / 10_000d).ToArray();
        var scale = 1d + scaleSeed;
        var scaled = returns.Select(r => r * scale).ToArray();
        return SameOrBothUndefined(ReturnStatistics.SharpeRatio(returns, 365), ReturnStatistics.SharpeRatio(scaled, 365))
            && SameOrBothUndefined(ReturnStatistics.SortinoRatio(returns, 365), ReturnStatistics.SortinoRatio(scaled, 365));
    }

    [Property(MaxTest = 300)]
    public bool Trade_statistics_are_consistent(int[] cents)
    {
        var pnls = cents.Select(c => c / 100m).ToArray();
        var stats = TradeStatistics.From(pnls);
        return stats.NumberOfTrades == pnls.Length
            && stats.Wins + stats.Losses <= stats.NumberOfTrades
            && stats.NetProfit == pnls.Sum()
            && stats.GrossProfit - stats.GrossLoss == stats.NetProfit
            && stats.WinRate is null or (>= 0m and <= 1m)
            && (stats.ProfitFactor is not { } pf || (pf > 1m) == (stats.NetProfit > 0m));
    }

    private static bool SameOrBothUndefined(double a, double b) =>
        (!double.IsFinite(a) && !double.IsFinite(b)) || Math.Abs(a - b) <= 1e-9 * Math.Max(1d, Math.Abs(a));
}
