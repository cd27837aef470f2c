using QuantTrader.Contracts.Trading;

namespace QuantTrader.Trading.Orders;

/// <summary>
/// An order as the paper engine accepts it, after the REST or strategy layer has parsed it.
/// <paramref name="CreatedAt"/> comes from the request (the engine never reads the clock), so a replay is deterministic.
/// </summary>
public sealed record OrderRequest(
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
    DateTimeOffset CreatedAt)
{
    /// <summary>Limit and stop-limit orders carry a limit price.</summary>
    public bool HasLimit => Type is OrderType.Limit or OrderType.StopLimit;

    /// <summary>Stop-market and stop-limit orders wait for their stop price.</summary>
    public bool IsStop => Type is OrderType.StopMarket or OrderType.StopLimit;
}

/// <summary>One problem with a request. <paramref name="Field"/> is the camelCase JSON name (<c>quantity</c>, <c>price</c>, <c>stopPrice</c>...).</summary>
public sealed record FieldError(string Field, string Message);
