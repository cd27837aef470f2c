using QuantTrader.Trading.Risk;

namespace QuantTrader.Risk.Limits;

/// <summary>One set of limits as configuration spells it.</summary>
public sealed class LimitValues
{
    public decimal MaxOrderNotional { get; set; }

    public decimal MaxPositionNotional { get; set; }

    public decimal MaxDailyLoss { get; set; }

    public int MaxOpenOrders { get; set; }

    public RiskLimits ToLimits() => new(MaxOrderNotional, MaxPositionNotional, MaxDailyLoss, MaxOpenOrders);
}

/// <summary>
/// The operator's risk configuration (section <c>Risk</c>): what a user gets until they set their own limits, the
/// ceiling no user may go above, and the kill switch that rejects every new order. Read on every check, so a
/// changed appsettings file or environment takes effect without a restart.
/// </summary>
public sealed class RiskSettings
{
    public const string Section = "Risk";

    public LimitValues Defaults { get; set; } = new() { MaxOrderNotional = 50_000m, MaxPositionNotional = 100_000m, MaxDailyLoss = 5_000m, MaxOpenOrders = 100 };

    public LimitValues Ceiling { get; set; } = new() { MaxOrderNotional = 1_000_000m, MaxPositionNotional = 5_000_000m, MaxDailyLoss = 250_000m, MaxOpenOrders = 1_000 };

    /// <summary>True: every new order is rejected (limit <c>killSwitch</c>); cancels still work.</summary>
    public bool KillSwitch { get; set; }
}
