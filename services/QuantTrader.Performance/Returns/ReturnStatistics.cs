namespace QuantTrader.Performance;

/// <summary>
/// Risk/return statistics of a series of simple per-period returns (0.01 = +1%), following the
/// conventions of quantopian/empyrical so that results are comparable with pyfolio/zipline:
/// <list type="bullet">
/// <item>NaN marks a missing return: it is dropped from means and standard deviations, treated as 0
/// when compounding, and still counted in the length used by <see cref="AnnualReturn"/>.</item>
/// <item>Standard deviations are sample deviations (divide by n − 1).</item>
/// <item>"ppy" is periods per year: 252 for equity-market days, 365 for crypto days, 52 weekly, 12 monthly.</item>
/// <item>Undefined results (too few returns, zero denominators) are NaN or ±∞, never exceptions.</item>
/// </list>
/// </summary>
public static class ReturnStatistics
{
    /// <summary>
    /// rᵢ = equityᵢ / equityᵢ₋₁ − 1 for i ≥ 1 (so n points give n − 1 returns), divided in decimal then
    /// converted to double. A return after non-positive equity is undefined (NaN).
    /// </summary>
    public static double[] ReturnsFromEquity(IReadOnlyList<EquityPoint> equity)
    {
        ArgumentNullException.ThrowIfNull(equity);
        if (equity.Count < 2)
        {
            return [];
        }

        var returns = new double[equity.Count - 1];
        for (var i = 1; i < equity.Count; i++)
        {
            var previous = equity[i - 1].Equity;
            returns[i - 1] = previous > 0m ? (double)((equity[i].Equity / previous) - 1m) : double.NaN;
        }

        return returns;
    }

    /// <summary>Total compounded return: Π(1 + rᵢ) − 1, NaN returns counting as 0 (empyrical cum_returns_final).</summary>
    public static double CumulativeReturn(IReadOnlyList<double> returns)
    {
        ArgumentNullException.ThrowIfNull(returns);
        var growth = 1d;
        foreach (var r in returns)
        {
            if (!double.IsNaN(r))
            {
                growth *= 1d + r;
            }
        }

        return growth - 1d;
    }

    /// <summary>
    /// Compound annual growth rate: (1 + CumulativeReturn)^(ppy / n) − 1 where n = number of returns
    /// <em>including</em> NaN entries (years = n / ppy). NaN for an empty series.
    /// </summary>
    public static double AnnualReturn(IReadOnlyList<double> returns, double periodsPerYear)
    {
        ArgumentNullException.ThrowIfNull(returns);
        if (returns.Count < 1)
        {
            return double.NaN;
        }

        var years = returns.Count / periodsPerYear;
        return Math.Pow(1d + CumulativeReturn(returns), 1d / years) - 1d;
    }

    /// <summary>Annual volatility: sample std (n − 1) of the non-NaN returns × √ppy. NaN with fewer than 2 returns.</summary>
    public static double AnnualVolatility(IReadOnlyList<double> returns, double periodsPerYear)
    {
        ArgumentNullException.ThrowIfNull(returns);
        return returns.Count < 2 ? double.NaN : SampleStd(returns) * Math.Sqrt(periodsPerYear);
    }

    /// <summary>
    /// Sharpe ratio: mean(r − rf) / std(r − rf, n − 1) × √ppy, with a constant per-period risk-free
    /// return <paramref name="riskFree"/> (default 0). NaN with fewer than 2 returns; ±∞/NaN for zero std.
    /// </summary>
    public static double SharpeRatio(IReadOnlyList<double> returns, double periodsPerYear, double riskFree = 0d)
    {
        ArgumentNullException.ThrowIfNull(returns);
        return SharpeOf(Adjust(returns, _ => riskFree), periodsPerYear);
    }

    /// <summary>Sharpe ratio against a per-period risk-free series aligned index-by-index with <paramref name="returns"/>.</summary>
    public static double SharpeRatio(IReadOnlyList<double> returns, IReadOnlyList<double> riskFree, double periodsPerYear)
    {
        RequireAligned(returns, riskFree, nameof(riskFree));
        return SharpeOf(Adjust(returns, i => riskFree[i]), periodsPerYear);
    }

    /// <summary>
    /// Annualised downside deviation: √(mean over all non-NaN returns of min(r − req, 0)²) × √ppy.
    /// Returns above the required return contribute 0 but still count in the mean. NaN for an empty series.
    /// </summary>
    public static double DownsideRisk(IReadOnlyList<double> returns, double periodsPerYear, double requiredReturn = 0d)
    {
        ArgumentNullException.ThrowIfNull(returns);
        return DownsideOf(Adjust(returns, _ => requiredReturn), periodsPerYear);
    }

    /// <summary>Downside risk against a per-period required-return series aligned with <paramref name="returns"/>.</summary>
    public static double DownsideRisk(IReadOnlyList<double> returns, IReadOnlyList<double> requiredReturn, double periodsPerYear)
    {
        RequireAligned(returns, requiredReturn, nameof(requiredReturn));
        return DownsideOf(Adjust(returns, i => requiredReturn[i]), periodsPerYear);
    }

    /// <summary>
    /// Sortino ratio: mean(r − req) × ppy / <see cref="DownsideRisk(IReadOnlyList{double}, double, double)"/>.
    /// NaN with fewer than 2 returns; +∞ when nothing fell below the required return.
    /// </summary>
    public static double SortinoRatio(IReadOnlyList<double> returns, double periodsPerYear, double requiredReturn = 0d)
    {
        ArgumentNullException.ThrowIfNull(returns);
        return SortinoOf(Adjust(returns, _ => requiredReturn), periodsPerYear);
    }

    /// <summary>Sortino ratio against a per-period required-return series aligned with <paramref name="returns"/>.</summary>
    public static double SortinoRatio(IReadOnlyList<double> returns, IReadOnlyList<double> requiredReturn, double periodsPerYear)
    {
        RequireAligned(returns, requiredReturn, nameof(requiredReturn));
        return SortinoOf(Adjust(returns, i => requiredReturn[i]), periodsPerYear);
    }

    /// <summary>
    /// Maximum drawdown of the compounded return series as a positive fraction in [0, 1]:
    /// max over t of 1 − equityₜ / max(equity₀..ₜ), with equity₀ = 1 before the first return (so a
    /// first-period loss is a drawdown) and NaN returns counting as 0. empyrical reports the same
    /// number negated.
    /// </summary>
    public static double MaxDrawdown(IReadOnlyList<double> returns)
    {
        ArgumentNullException.ThrowIfNull(returns);
        double equity = 1d, peak = 1d, worst = 0d;
        foreach (var r in returns)
        {
            if (!double.IsNaN(r))
            {
                equity *= 1d + r;
            }

            peak = Math.Max(peak, equity);
            worst = Math.Max(worst, 1d - (equity / peak));
        }

        return worst;
    }

    /// <summary>
    /// Maximum drawdown of an equity curve as a positive fraction: max over t of 1 − equityₜ / peakₜ where
    /// peakₜ is the highest equity up to t, the first point (starting capital) included. Computed in
    /// decimal. Exceeds 1 only if equity goes negative (leverage); 0 for an empty or never-falling curve.
    /// </summary>
    public static double MaxDrawdown(IReadOnlyList<EquityPoint> equity)
    {
        ArgumentNullException.ThrowIfNull(equity);
        if (equity.Count == 0)
        {
            return 0d;
        }

        var peak = equity[0].Equity;
        var worst = 0m;
        foreach (var point in equity)
        {
            peak = Math.Max(peak, point.Equity);
            if (peak > 0m)
            {
                worst = Math.Max(worst, 1m - (point.Equity / peak));
            }
        }

        return (double)worst;
    }

    /// <summary>
    /// Calmar ratio: <see cref="AnnualReturn"/> / <see cref="MaxDrawdown(IReadOnlyList{double})"/>.
    /// NaN when there was no drawdown.
    /// </summary>
    public static double CalmarRatio(IReadOnlyList<double> returns, double periodsPerYear)
    {
        var maxDrawdown = MaxDrawdown(returns);
        if (!(maxDrawdown > 0d))
        {
            return double.NaN;
        }

        var calmar = AnnualReturn(returns, periodsPerYear) / maxDrawdown;
        return double.IsInfinity(calmar) ? double.NaN : calmar;
    }

    /// <summary>
    /// Omega ratio: with per-period threshold τ = (1 + requiredReturn)^(1/annualization) − 1
    /// (τ = requiredReturn when annualization = 1) and excess eᵢ = rᵢ − rf − τ,
    /// Omega = Σ eᵢ⁺ / Σ (−eᵢ)⁺ over non-NaN returns. <paramref name="requiredReturn"/> is annual;
    /// NaN when nothing fell below the threshold or requiredReturn ≤ −1.
    /// </summary>
    public static double OmegaRatio(
        IReadOnlyList<double> returns,
        double annualization = 252d,
        double riskFree = 0d,
        double requiredReturn = 0d)
    {
        ArgumentNullException.ThrowIfNull(returns);
        return OmegaOf(returns, _ => riskFree, annualization, requiredReturn);
    }

    /// <summary>Omega ratio against a per-period risk-free series aligned with <paramref name="returns"/>.</summary>
    public static double OmegaRatio(
        IReadOnlyList<double> returns,
        IReadOnlyList<double> riskFree,
        double annualization = 252d,
        double requiredReturn = 0d)
    {
        RequireAligned(returns, riskFree, nameof(riskFree));
        return OmegaOf(returns, i => riskFree[i], annualization, requiredReturn);
    }

    /// <summary>
    /// Stability of returns: R² of an ordinary least-squares fit of the cumulative log return
    /// Σ log(1 + rᵢ) against the index 0..n−1, NaN returns dropped first. 1 = perfectly steady
    /// compounding. NaN with fewer than 2 returns.
    /// </summary>
    public static double StabilityOfTimeseries(IReadOnlyList<double> returns)
    {
        ArgumentNullException.ThrowIfNull(returns);
        var cumulative = new List<double>(returns.Count);
        var logSum = 0d;
        foreach (var r in returns)
        {
            if (!double.IsNaN(r))
            {
                logSum += Math.Log(1d + r);
                cumulative.Add(logSum);
            }
        }

        var n = cumulative.Count;
        if (n < 2)
        {
            return double.NaN;
        }

        var meanX = (n - 1) / 2d;
        var meanY = cumulative.Average();
        double sxy = 0d, sxx = 0d, syy = 0d;
        for (var i = 0; i < n; i++)
        {
            var dx = i - meanX;
            var dy = cumulative[i] - meanY;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }

        return syy == 0d ? double.NaN : sxy * sxy / (sxx * syy);
    }

    /// <summary>
    /// CAPM alpha and beta of <paramref name="returns"/> against <paramref name="benchmark"/> (aligned
    /// index-by-index; pairs with a NaN on either side dropped), after subtracting the per-period
    /// risk-free return from both: beta = mean((b − mean b)·r) / mean((b − mean b)²);
    /// alpha = (1 + mean(r − beta·b))^ppy − 1 (annualised). NaN with fewer than 2 pairs or a flat benchmark.
    /// </summary>
    public static (double Alpha, double Beta) AlphaBeta(
        IReadOnlyList<double> returns,
        IReadOnlyList<double> benchmark,
        double periodsPerYear,
        double riskFree = 0d)
    {
        RequireAligned(returns, benchmark, nameof(benchmark));
        if (returns.Count < 2)
        {
            return (double.NaN, double.NaN);
        }

        var pairs = new List<(double R, double B)>(returns.Count);
        for (var i = 0; i < returns.Count; i++)
        {
            if (!double.IsNaN(returns[i]) && !double.IsNaN(benchmark[i]))
            {
                pairs.Add((returns[i] - riskFree, benchmark[i] - riskFree));
            }
        }

        if (pairs.Count == 0)
        {
            return (double.NaN, double.NaN);
        }

        var benchmarkMean = pairs.Average(p => p.B);
        var covariance = pairs.Average(p => (p.B - benchmarkMean) * p.R);
        var variance = pairs.Average(p => (p.B - benchmarkMean) * (p.B - benchmarkMean));
        var beta = variance < 1e-30 ? double.NaN : covariance / variance;
        var alpha = Math.Pow(pairs.Average(p => p.R - (beta * p.B)) + 1d, periodsPerYear) - 1d;
        return (alpha, beta);
    }

    private static double SharpeOf(double[] excess, double periodsPerYear) =>
        excess.Length < 2 ? double.NaN : Mean(excess) / SampleStd(excess) * Math.Sqrt(periodsPerYear);

    private static double DownsideOf(double[] excess, double periodsPerYear)
    {
        if (excess.Length < 1)
        {
            return double.NaN;
        }

        double sumSquares = 0d;
        var count = 0;
        foreach (var e in excess)
        {
            if (!double.IsNaN(e))
            {
                var shortfall = Math.Min(e, 0d);
                sumSquares += shortfall * shortfall;
                count++;
            }
        }

        return count == 0 ? double.NaN : Math.Sqrt(sumSquares / count) * Math.Sqrt(periodsPerYear);
    }

    private static double SortinoOf(double[] excess, double periodsPerYear) =>
        excess.Length < 2 ? double.NaN : Mean(excess) * periodsPerYear / DownsideOf(excess, periodsPerYear);

    private static double OmegaOf(IReadOnlyList<double> returns, Func<int, double> riskFree, double annualization, double requiredReturn)
    {
        double threshold;
        if (annualization == 1d)
        {
            threshold = requiredReturn;
        }
        else if (requiredReturn <= -1d)
        {
            return double.NaN;
        }
        else
        {
            threshold = Math.Pow(1d + requiredReturn, 1d / annualization) - 1d;
        }

        double gains = 0d, losses = 0d;
        for (var i = 0; i < returns.Count; i++)
        {
            var excess = returns[i] - riskFree(i) - threshold;
            if (excess > 0d)
            {
                gains += excess;
            }
            else if (excess < 0d)
            {
                losses -= excess;
            }
        }

        return losses > 0d ? gains / losses : double.NaN;
    }

    private static double[] Adjust(IReadOnlyList<double> returns, Func<int, double> threshold)
    {
        var adjusted = new double[returns.Count];
        for (var i = 0; i < adjusted.Length; i++)
        {
            adjusted[i] = returns[i] - threshold(i);
        }

        return adjusted;
    }

    private static double Mean(IReadOnlyList<double> values)
    {
        double sum = 0d;
        var count = 0;
        foreach (var v in values)
        {
            if (!double.IsNaN(v))
            {
                sum += v;
                count++;
            }
        }

        return count == 0 ? double.NaN : sum / count;
    }

    /// <summary>Sample standard deviation (n − 1) of the non-NaN values.</summary>
    private static double SampleStd(IReadOnlyList<double> values)
    {
        var mean = Mean(values);
        double sum = 0d;
        var count = 0;
        foreach (var v in values)
        {
            if (!double.IsNaN(v))
            {
                sum += (v - mean) * (v - mean);
                count++;
            }
        }

        return count < 2 ? double.NaN : Math.Sqrt(sum / (count - 1));
    }

    private static void RequireAligned(IReadOnlyList<double> returns, IReadOnlyList<double> other, string name)
    {
        ArgumentNullException.ThrowIfNull(returns);
        ArgumentNullException.ThrowIfNull(other, name);
        if (other.Count != returns.Count)
        {
            throw new ArgumentException($"{name} has {other.Count} values but returns has {returns.Count}; align them first.", name);
        }
    }
}
