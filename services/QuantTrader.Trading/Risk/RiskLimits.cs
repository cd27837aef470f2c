using QuantTrader.Trading.Orders;

namespace QuantTrader.Trading.Risk;

/// <summary>
/// Per-user risk limits, as in <c>GET/PUT /api/v1/risk/limits</c>. Notional and loss amounts are in the quote currency (USDT).
/// </summary>
/// <param name="MaxOrderNotional">Largest quantity × reference price of one order.</param>
/// <param name="MaxPositionNotional">Largest absolute position notional an order may lead to.</param>
/// <param name="MaxDailyLoss">Largest loss (realized + unrealized since 00:00 UTC, as a positive number) before new exposure is refused.</param>
/// <param name="MaxOpenOrders">Most open orders at once.</param>
public sealed record RiskLimits(decimal MaxOrderNotional, decimal MaxPositionNotional, decimal MaxDailyLoss, int MaxOpenOrders)
{
    /// <summary>JSON names of the limits, used as <c>RiskCheckReply.Limit</c> and as validation fields.</summary>
    public const string MaxOrderNotionalName = "maxOrderNotional";

    /// <inheritdoc cref="MaxOrderNotionalName"/>
    public const string MaxPositionNotionalName = "maxPositionNotional";

    /// <inheritdoc cref="MaxOrderNotionalName"/>
    public const string MaxDailyLossName = "maxDailyLoss";

    /// <inheritdoc cref="MaxOrderNotionalName"/>
    public const string MaxOpenOrdersName = "maxOpenOrders";

    /// <summary>No limit at all; useful as an operator ceiling that caps nothing.</summary>
    public static RiskLimits Unlimited { get; } = new(decimal.MaxValue, decimal.MaxValue, decimal.MaxValue, int.MaxValue);

    /// <summary>Each limit lowered to the operator's ceiling where it is above it.</summary>
    public RiskLimits Clamp(RiskLimits ceiling)
    {
        ArgumentNullException.ThrowIfNull(ceiling);
        return new RiskLimits(
            Math.Min(MaxOrderNotional, ceiling.MaxOrderNotional),
            Math.Min(MaxPositionNotional, ceiling.MaxPositionNotional),
            Math.Min(MaxDailyLoss, ceiling.MaxDailyLoss),
            Math.Min(MaxOpenOrders, ceiling.MaxOpenOrders));
    }

    /// <summary>
    /// Errors for a user's <c>PUT</c>: negative values, and values above the operator's ceiling (for callers that prefer a
    /// 400 naming the field over silently clamping). Empty when valid.
    /// </summary>
    public IReadOnlyList<FieldError> Validate(RiskLimits ceiling)
    {
        ArgumentNullException.ThrowIfNull(ceiling);
        var errors = new List<FieldError>();
        Check(MaxOrderNotionalName, MaxOrderNotional, ceiling.MaxOrderNotional, errors);
        Check(MaxPositionNotionalName, MaxPositionNotional, ceiling.MaxPositionNotional, errors);
        Check(MaxDailyLossName, MaxDailyLoss, ceiling.MaxDailyLoss, errors);
        Check(MaxOpenOrdersName, MaxOpenOrders, ceiling.MaxOpenOrders, errors);
        return errors;
    }

    private static void Check(string field, decimal value, decimal ceiling, List<FieldError> errors)
    {
        if (value < 0m)
        {
            errors.Add(new FieldError(field, $"{field} must not be negative."));
        }
        else if (value > ceiling)
        {
            errors.Add(new FieldError(field, FormattableString.Invariant($"{field} {value} is above the operator's ceiling of {ceiling}.")));
        }
    }
}
