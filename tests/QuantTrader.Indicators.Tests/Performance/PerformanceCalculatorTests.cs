using QuantTrader.Performance;

namespace QuantTrader.Indicators.Tests.Performance;

public sealed class PerformanceCalculatorTests
{
    private static readonly DateTimeOffset Day0 = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Report_of_a_small_curve_matches_hand_computation()
    {
        // 100 → 110 (+10%) → 99 (−10%) → 121 (+22/99 ≈ 22.2%): peak 110, trough 99, drawdown 10%.
        var equity = Curve(100m, 110m, 99m, 121m);
        var report = PerformanceCalculator.Compute(equity, [10m, -11m, 22m], new PerformanceOptions { PeriodsPerYear = 3 });

        Assert.Equal(3, report.Periods);
        Assert.Equal(100m, report.StartEquity);
        Assert.Equal(121m, report.EndEquity);
        Assert.Equal(0.21, report.TotalReturn!.Value, 12);
        Assert.Equal(0.21, report.AnnualReturn!.Value, 12); // three periods with ppy = 3 is exactly one year
        Assert.Equal(0.1, report.MaxDrawdown!.Value, 12);
        Assert.Equal(2.1, report.CalmarRatio!.Value, 10);

        double[] r = [0.1, -0.1, 22d / 99d];
        var mean = r.Average();
        var std = Math.Sqrt(r.Sum(x => (x - mean) * (x - mean)) / 2);
        Assert.Equal(mean / std * Math.Sqrt(3), report.SharpeRatio!.Value, 10);
        Assert.Equal(Math.Sqrt(0.01 / 3) * Math.Sqrt(3), report.DownsideRisk!.Value, 12);
        Assert.Equal(mean * 3 / report.DownsideRisk.Value, report.SortinoRatio!.Value, 10);
        Assert.Equal((0.1 + (22d / 99d)) / 0.1, report.OmegaRatio!.Value, 10);

        var trades = report.Trades;
        Assert.Equal(3, trades.NumberOfTrades);
        Assert.Equal(2, trades.Wins);
        Assert.Equal(1, trades.Losses);
        Assert.Equal(2m / 3m, trades.WinRate);
        Assert.Equal(32m, trades.GrossProfit);
        Assert.Equal(11m, trades.GrossLoss);
        Assert.Equal(21m, trades.NetProfit);
        Assert.Equal(32m / 11m, trades.ProfitFactor);
        Assert.Equal(16m, trades.AverageWin);
        Assert.Equal(-11m, trades.AverageLoss);
        Assert.Equal(16m / 11m, trades.PayoffRatio);
        Assert.Equal(7m, trades.Expectancy);
        Assert.Equal(22m, trades.LargestWin);
        Assert.Equal(-11m, trades.LargestLoss);
        Assert.Null(report.Alpha);
    }

    [Fact]
    public void Undefined_ratios_are_null_not_nan()
    {
        var report = PerformanceCalculator.Compute(Curve(100m, 100m, 100m), [], new PerformanceOptions());
        Assert.Equal(0d, report.MaxDrawdown);
        Assert.Null(report.SharpeRatio);   // zero volatility
        Assert.Null(report.CalmarRatio);   // no drawdown
        Assert.Null(report.OmegaRatio);    // nothing below threshold
        Assert.Null(report.Stability);
        Assert.Equal(0, report.Trades.NumberOfTrades);
        Assert.Null(report.Trades.WinRate);
        Assert.Null(report.Trades.ProfitFactor);

        var empty = PerformanceCalculator.Compute([], [], new PerformanceOptions());
        Assert.Equal(0, empty.Periods);
        Assert.Null(empty.TotalReturn);
        Assert.Null(empty.AnnualReturn);
        Assert.Null(empty.Start);
    }

    [Fact]
    public void First_period_loss_counts_as_drawdown_from_starting_equity()
    {
        Assert.Equal(0.2, ReturnStatistics.MaxDrawdown(Curve(100m, 80m, 90m)), 12);
        Assert.Equal(0.2, ReturnStatistics.MaxDrawdown([-0.2, 0.125]), 12);
    }

    [Fact]
    public void Benchmark_gives_alpha_and_beta()
    {
        // Strategy returns are exactly 2× the benchmark: beta 2, alpha 0.
        double[] benchmark = [0.01, -0.02, 0.03, 0.005];
        var equity = new List<EquityPoint> { new(Day0, 1000m) };
        foreach (var b in benchmark)
        {
            equity.Add(new EquityPoint(equity[^1].Time.AddDays(1), equity[^1].Equity * (1m + (2m * (decimal)b))));
        }

        var report = PerformanceCalculator.Compute(equity, [], new PerformanceOptions { BenchmarkReturns = benchmark });
        Assert.Equal(2d, report.Beta!.Value, 9);
        Assert.Equal(0d, report.Alpha!.Value, 9);
    }

    [Fact]
    public void Periods_per_year_from_bar_interval()
    {
        Assert.Equal(8766d, PerformanceOptions.ForBarInterval(TimeSpan.FromHours(1)).PeriodsPerYear, 9);
        Assert.Equal(365d, new PerformanceOptions().PeriodsPerYear);
        Assert.Throws<ArgumentOutOfRangeException>(() => PerformanceOptions.ForBarInterval(TimeSpan.Zero));
    }

    [Fact]
    public void Misaligned_series_are_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => ReturnStatistics.SharpeRatio([0.1, 0.2], [0.0], 252));
        Assert.Equal("riskFree", ex.ParamName);
    }

    internal static List<EquityPoint> Curve(params decimal[] values) =>
        [.. values.Select((v, i) => new EquityPoint(Day0.AddDays(i), v))];
}
