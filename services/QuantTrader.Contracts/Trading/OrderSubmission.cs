namespace QuantTrader.Contracts.Trading;

/// <summary>
/// An order on its way into the paper engine: from REST (through the gateway) or from a strategy (over NATS
/// request/reply on <see cref="Messaging.Subjects.TradingSubmit"/>). One path for every order.
/// </summary>
public sealed record SubmitOrderRequest(
    Guid UserId,
    Guid? StrategyId,
    string Exchange,
    string Symbol,
    OrderSide Side,
    OrderType Type,
    TimeInForce TimeInForce,
    decimal Quantity,
    decimal? Price,
    decimal? StopPrice,
    string? ClientOrderId);

/// <summary>
/// The engine's answer. <paramref name="Order"/> when accepted (or rejected by risk, with
/// <see cref="OrderEvent.RejectReason"/>); otherwise <paramref name="Error"/> with a stable problem slug and,
/// where it applies, the offending field or the risk limit.
/// </summary>
public sealed record SubmitOrderReply(OrderEvent? Order, string? Error, string? Field, string? Limit, string? Detail);

/// <summary>Cancel over NATS request/reply on <see cref="Messaging.Subjects.TradingCancel"/>: only the owner's orders.</summary>
public sealed record CancelOrderRequest(Guid UserId, Guid OrderId);
