using QuantTrader.Contracts.Trading;

namespace QuantTrader.Trading.Risk;

/// <summary>
/// The risk manager's decision for one order, as a pure function of the request and the user's (already clamped) limits.
/// Checks, in this order, the first failing one is reported:
/// <list type="number">
/// <item><c>killSwitch</c>: the operator stopped all new orders.</item>
/// <item><c>maxOpenOrders</c>: <c>OpenOrders</c> (not counting this one) + 1 &gt; limit.</item>
/// <item><c>maxOrderNotional</c>: <c>Quantity × ReferencePrice</c> &gt; limit.</item>
/// <item><c>maxPositionNotional</c>: |projected position| &gt; limit, where projected = <c>PositionNotional</c> (signed: long &gt; 0)
/// ± order notional. An order that makes the position smaller is always allowed.</item>
/// <item><c>maxDailyLoss</c>: today's loss (−<c>DailyRealizedPnl</c>; the caller puts realized + unrealized since 00:00 UTC there)
/// ≥ limit. Orders that reduce the position stay allowed, so a user can still get out.</item>
/// </list>
/// </summary>
public static class RiskEvaluator
{
    /// <summary>The <c>Limit</c> of a reply refused by the operator's kill switch.</summary>
    public const string KillSwitchName = "killSwitch";

    /// <summary>Checks <paramref name="request"/> against <paramref name="limits"/>.</summary>
    /// <param name="request">The order as the paper engine describes it.</param>
    /// <param name="limits">The user's limits, already clamped to the operator's ceiling.</param>
    /// <param name="killSwitch">True when the operator has stopped all new orders.</param>
    public static RiskCheckReply Check(RiskCheckRequest request, RiskLimits limits, bool killSwitch = false)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(limits);
        if (killSwitch)
        {
            return Reject(KillSwitchName, "Trading is halted by the operator; no new orders are accepted.");
        }

        if (request.OpenOrders + 1L > limits.MaxOpenOrders)
        {
            return Reject(RiskLimits.MaxOpenOrdersName,
                Invariant($"You have {request.OpenOrders} open orders; maxOpenOrders is {limits.MaxOpenOrders}."));
        }

        var notional = request.Quantity * request.ReferencePrice;
        if (notional > limits.MaxOrderNotional)
        {
            return Reject(RiskLimits.MaxOrderNotionalName,
                Invariant($"Order notional {notional} exceeds maxOrderNotional {limits.MaxOrderNotional}."));
        }

        var current = request.PositionNotional;
        var projected = current + (request.Side == OrderSide.Buy ? notional : -notional);
        var reduces = Math.Abs(projected) <= Math.Abs(current);
        if (!reduces && Math.Abs(projected) > limits.MaxPositionNotional)
        {
            return Reject(RiskLimits.MaxPositionNotionalName,
                Invariant($"Position notional would be {Math.Abs(projected)}, above maxPositionNotional {limits.MaxPositionNotional}."));
        }

        var loss = -request.DailyRealizedPnl;
        if (!reduces && loss > 0m && loss >= limits.MaxDailyLoss)
        {
            return Reject(RiskLimits.MaxDailyLossName,
                Invariant($"Today's loss {loss} has reached maxDailyLoss {limits.MaxDailyLoss}; only orders that reduce a position are accepted."));
        }

        return new RiskCheckReply(true, null, null);
    }

    private static RiskCheckReply Reject(string limit, string reason) => new(false, limit, reason);

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);
}
