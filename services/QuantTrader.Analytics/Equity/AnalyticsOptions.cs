namespace QuantTrader.Analytics.Equity;

/// <summary>Configuration section <c>Analytics</c>.</summary>
public sealed class AnalyticsOptions
{
    public const string Section = "Analytics";

    /// <summary>Paper cash every account starts with, in <see cref="QuoteAsset"/> (the paper engine's default).</summary>
    public decimal StartingBalance { get; set; } = 10_000m;

    /// <summary>The valuation asset: equity is cash plus positions marked in this asset.</summary>
    public string QuoteAsset { get; set; } = "USDT";

    /// <summary>How often each active user's equity is snapshotted (besides on every fill).</summary>
    public TimeSpan SnapshotInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A user is active while holding a position or for this long after their last fill.</summary>
    public TimeSpan ActiveWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Days in a year for annualising (√(days/period) for volatility): 365, crypto trades every day.</summary>
    public double DaysPerYear { get; set; } = 365d;

    /// <summary>Annual risk-free rate for Sharpe and Omega (converted to a per-period rate). Default 0.</summary>
    public double RiskFreeRatePerYear { get; set; }
}
