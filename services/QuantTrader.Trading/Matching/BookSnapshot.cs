using QuantTrader.Contracts.Trading;
using QuantTrader.Trading.Orders;

namespace QuantTrader.Trading.Matching;

/// <summary>
/// Everything a <see cref="MatchingEngine"/> needs to continue exactly where it stopped: open orders with their matching state,
/// the sequence counter (time priority), the last trade and the recently processed trade ids (idempotent redelivery).
/// Plain records, so the service can serialize it with System.Text.Json.
/// </summary>
public sealed record BookSnapshot(
    string Exchange,
    string Symbol,
    long NextSequence,
    decimal? LastPrice,
    long? LastTradeId,
    long? TradeIdWatermark,
    IReadOnlyList<long> RecentTradeIds,
    IReadOnlyList<BookOrderSnapshot> Orders);

/// <summary>
/// One open order in a <see cref="BookSnapshot"/>.
/// </summary>
/// <param name="Order">The request as accepted.</param>
/// <param name="Fees">The account's rates when the order was accepted.</param>
/// <param name="QuoteBudget">For buys: quote still locked for the order (fills are capped to it); null = uncapped.</param>
/// <param name="Sequence">Time priority: lower is earlier. A triggered stop gets a new sequence at trigger.</param>
/// <param name="Role">Maker or taker once active; null while a stop waits for its trigger.</param>
/// <param name="Status">New or partially filled.</param>
/// <param name="FilledQuantity">Quantity filled so far.</param>
/// <param name="FilledNotional">Sum of price × quantity of its fills (average price = notional / filled).</param>
/// <param name="FeesPaid">Sum of fees of its fills, in quote.</param>
/// <param name="NotBeforeTradeId">The order only fills on prints with a larger trade id (it arrived after this one).</param>
/// <param name="UpdatedAt">Time of the last change.</param>
public sealed record BookOrderSnapshot(
    OrderRequest Order,
    FeeRates Fees,
    decimal? QuoteBudget,
    long Sequence,
    Liquidity? Role,
    OrderStatus Status,
    decimal FilledQuantity,
    decimal FilledNotional,
    decimal FeesPaid,
    long NotBeforeTradeId,
    DateTimeOffset UpdatedAt);
