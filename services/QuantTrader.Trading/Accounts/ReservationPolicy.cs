using QuantTrader.Contracts.Trading;
using QuantTrader.Trading.Orders;

namespace QuantTrader.Trading.Accounts;

/// <summary>What an order must lock before it is accepted.</summary>
public sealed record ReservationAmount(string Asset, decimal Amount);

/// <summary>
/// Decides how much an order locks when it is accepted.
/// <list type="bullet">
/// <item>Sell (any type): the base quantity. Fees are taken from the quote proceeds, so nothing else is needed.</item>
/// <item>Limit and stop-limit buy: <c>quantity × limit price × (1 + highest fee rate)</c>. Fills never happen above the limit,
/// so this always covers price and fee.</item>
/// <item>Market buy: <c>quantity × reference price × (1 + <see cref="MarketBuyMargin"/>) × (1 + highest fee rate)</c>, where the
/// reference price is the last trade price. Stop-market buy: the same with the stop price as reference (it triggers at or above it).</item>
/// </list>
/// A market buy whose next prints are more than the margin above the estimate fills what its lock pays for; the matching engine
/// expires the rest (see docs/matching.md). The default margin is 5 %: wide enough for ordinary moves between order and print,
/// small enough not to block much of a small account.
/// </summary>
/// <param name="MarketBuyMargin">Safety margin above the reference price for market and stop-market buys (0.05 = 5 %).</param>
public sealed record ReservationPolicy(decimal MarketBuyMargin = 0.05m)
{
    /// <summary>The default: 5 % margin.</summary>
    public static ReservationPolicy Default { get; } = new();

    /// <summary>
    /// The asset and amount <paramref name="order"/> locks, or null for a market buy with no reference price (nothing has
    /// traded yet, so the cost cannot be estimated and the order should be refused).
    /// </summary>
    public ReservationAmount? Compute(OrderRequest order, Instrument instrument, FeeRates fees, decimal? referencePrice)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(instrument);
        ArgumentNullException.ThrowIfNull(fees);
        if (order.Side == OrderSide.Sell)
        {
            return new ReservationAmount(instrument.BaseAsset, order.Quantity);
        }

        var feeFactor = 1m + fees.Highest;
        var price = order.Type switch
        {
            OrderType.Limit or OrderType.StopLimit => order.Price,
            OrderType.StopMarket => order.StopPrice * (1m + MarketBuyMargin),
            _ => referencePrice * (1m + MarketBuyMargin),
        };

        return price is { } p ? new ReservationAmount(instrument.QuoteAsset, order.Quantity * p * feeFactor) : null;
    }
}
