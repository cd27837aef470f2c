namespace QuantTrader.Performance;

/// <summary>Conventions for annualising and thresholding the statistics in <see cref="PerformanceReport"/>.</summary>
public sealed record PerformanceOptions
{
    /// <summary>
    /// Periods (equity points) per year used to annualise: volatility × √ppy, mean × ppy, and
    /// (1+total)^(ppy/n) − 1. Default 365: crypto trades every day, so a daily equity curve has 365 periods
    /// a year (empyrical's default of 252 assumes equity-market trading days). Use
    /// <see cref="ForBarInterval"/> for intraday curves.
    /// </summary>
    public double PeriodsPerYear { get; init; } = 365d;

    /// <summary>Risk-free return per period subtracted in Sharpe, Omega and alpha/beta. Default 0.</summary>
    public double RiskFreeRate { get; init; }

    /// <summary>Minimum acceptable return per period for downside risk and Sortino. Default 0.</summary>
    public double RequiredReturn { get; init; }

    /// <summary>Annual required return for the Omega ratio (converted to a per-period threshold). Default 0.</summary>
    public double OmegaRequiredReturn { get; init; }

    /// <summary>Optional benchmark returns, aligned index-by-index with the equity curve's returns, for alpha/beta.</summary>
    public IReadOnlyList<double>? BenchmarkReturns { get; init; }

    /// <summary>Options whose <see cref="PeriodsPerYear"/> = 365.25 days / <paramref name="barInterval"/> (e.g. 8766 for 1h).</summary>
    public static PerformanceOptions ForBarInterval(TimeSpan barInterval)
    {
        if (barInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(barInterval), barInterval, "Bar interval must be positive.");
        }

        return new PerformanceOptions { PeriodsPerYear = TimeSpan.FromDays(365.25) / barInterval };
    }
}
