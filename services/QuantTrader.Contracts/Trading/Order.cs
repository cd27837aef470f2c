namespace QuantTrader.Contracts.Trading;

public enum OrderSide { Buy, Sell }

public enum OrderType { Market, Limit, StopMarket, StopLimit }

public enum TimeInForce { Gtc, Ioc, Fok }

public enum OrderStatus { New, PartiallyFilled, Filled, Canceled, Rejected, Expired }

public enum Liquidity { Maker, Taker }

/// <summary>The state of an order after a change, as published on <c>trading.order.{userId}</c>.</summary>
public sealed record OrderEvent(
    Guid Id,
    Guid UserId,
    string? ClientOrderId,
    Guid? StrategyId,
    string Exchange,
    string Symbol,
    OrderSide Side,
    OrderType Type,
    TimeInForce TimeInForce,
    decimal Quantity,
    decimal? Price,
    decimal? StopPrice,
    OrderStatus Status,
    decimal FilledQuantity,
    decimal AveragePrice,
    decimal Fees,
    string? RejectReason,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>One execution, as published on <c>trading.fill.{userId}</c>. <paramref name="TradeId"/> is the print it matched.</summary>
public sealed record FillEvent(
    Guid Id,
    Guid OrderId,
    Guid UserId,
    Guid? StrategyId,
    string Exchange,
    string Symbol,
    OrderSide Side,
    decimal Price,
    decimal Quantity,
    decimal Fee,
    string FeeAsset,
    Liquidity Liquidity,
    long TradeId,
    DateTimeOffset Time);

/// <summary>Asked by the paper engine on <c>risk.check</c> before an order is accepted.</summary>
public sealed record RiskCheckRequest(
    Guid UserId,
    string Exchange,
    string Symbol,
    OrderSide Side,
    decimal Quantity,
    decimal ReferencePrice,
    int OpenOrders,
    decimal PositionNotional,
    decimal DailyRealizedPnl);

/// <summary>The risk manager's answer; <paramref name="Limit"/> names the limit that rejected the order.</summary>
public sealed record RiskCheckReply(bool Accepted, string? Limit, string? Reason);
