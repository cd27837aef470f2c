using QuantTrader.Contracts.Trading;

namespace QuantTrader.Strategies.Sandbox;

/// <summary>
/// What a strategy may do in the world, implemented by the integrator (the live runner or the backtester) and
/// bound to one strategy instance and its owner: the sandbox has no account or symbol parameter to pass, so a
/// strategy can only ever act as the owner the host was created for. The sandbox itself does no I/O.
/// Calls arrive on the thread that called into the sandbox, synchronously, inside a strategy call.
/// </summary>
public interface IStrategyHost
{
    /// <summary>Submits an order; returns a positive handle the strategy can cancel, or 0/negative when refused.</summary>
    long PlaceOrder(StrategyOrderRequest request);

    /// <summary>Cancels an order this strategy placed; false when the handle is unknown or already final.</summary>
    bool Cancel(long handle);

    /// <summary>The strategy's position in the base asset (positive long).</summary>
    decimal Position { get; }

    /// <summary>The owner's free balance in the quote asset.</summary>
    decimal QuoteBalance { get; }

    /// <summary>A line the strategy logged (already length-capped and rate-limited by the sandbox).</summary>
    void Log(string message);
}

/// <summary>
/// An order as the strategy asked for it, already converted from the ABI's f64 to decimal and rounded to the
/// instrument: quantity down to the step size, a buy limit down and a sell limit up to the tick size (never a
/// worse price than the strategy asked for). <paramref name="Price"/> is null for market and stop-market orders,
/// <paramref name="StopPrice"/> for everything but stops. ABI v1 places only market and limit orders, good till
/// cancelled; the stop and time-in-force fields are there for hosts (the backtester) that take every order the paper
/// engine knows.
/// </summary>
public sealed record StrategyOrderRequest(
    OrderSide Side,
    OrderType Type,
    decimal Quantity,
    decimal? Price,
    decimal? StopPrice = null,
    TimeInForce TimeInForce = TimeInForce.Gtc);

/// <summary>A fill delivered to the strategy's <c>on_fill</c>.</summary>
public sealed record StrategyFill(long Handle, OrderSide Side, decimal Price, decimal Quantity, decimal Fee);

/// <summary>Price and quantity increments of the instrument a strategy trades; used to turn its f64s into decimals.</summary>
public sealed record InstrumentFilters(decimal TickSize, decimal StepSize)
{
    public static InstrumentFilters Unrestricted { get; } = new(0m, 0m);

    internal decimal RoundQuantity(decimal quantity) => StepSize > 0 ? Math.Floor(quantity / StepSize) * StepSize : quantity;

    internal decimal RoundPrice(decimal price, OrderSide side)
    {
        if (TickSize <= 0)
        {
            return price;
        }
        var ticks = price / TickSize;
        return (side == OrderSide.Buy ? Math.Floor(ticks) : Math.Ceiling(ticks)) * TickSize;
    }
}
