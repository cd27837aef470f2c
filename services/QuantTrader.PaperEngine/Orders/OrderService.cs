using System.Collections.Concurrent;
using System.Globalization;
using QuantTrader.Contracts.Trading;
using QuantTrader.PaperEngine.Engine;
using QuantTrader.PaperEngine.Storage;
using QuantTrader.Trading;
using QuantTrader.Trading.Orders;

namespace QuantTrader.PaperEngine.Orders;

/// <summary>Why an order or a cancel was not accepted; <see cref="Slug"/> is the problem type's last segment.</summary>
public sealed record OrderProblem(string Slug, string Detail, string? Field = null, string? Limit = null)
{
    public const string Validation = "validation";
    public const string NotFound = "not-found";
    public const string ClientOrderIdConflict = "client-order-id-conflict";
    public const string OrderNotOpen = "order-not-open";
    public const string RiskRejected = "risk-rejected";
    public const string RiskUnavailable = "risk-unavailable";
}

/// <summary>The order (accepted now, or the earlier one with the same clientOrderId), or the problem.</summary>
public sealed record OrderOutcome(OrderEvent? Order, bool Created, OrderProblem? Problem);

/// <summary>
/// The one path every order takes, from REST and from strategies over NATS: shape checks, clientOrderId
/// idempotency, exchange rules, the risk manager (fail closed), then the engine loop (funds, book, durable write).
/// Orders of one user are admitted one at a time, so a risk check sees the open orders and position that the
/// previous order of the same user left behind.
/// </summary>
public sealed class OrderService(
    Instruments instruments,
    ExchangeLoop loop,
    PaperStore store,
    RiskClient risk,
    LastTrades lastTrades,
    TimeProvider clock,
    ILogger<OrderService> logger)
{
    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _admission = new();

    public async Task<OrderOutcome> SubmitAsync(SubmitOrderRequest request, CancellationToken ct)
    {
        if (Shape(request, out var instrument) is { } shapeProblem)
        {
            return Fail(shapeProblem);
        }

        var gate = _admission.GetOrAdd(request.UserId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            return await AdmitAsync(request, instrument!, ct);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<OrderOutcome> AdmitAsync(SubmitOrderRequest request, Instrument instrument, CancellationToken ct)
    {
        var order = new OrderRequest(Guid.CreateVersion7(), request.UserId, request.ClientOrderId, request.StrategyId, instrument.Exchange,
            instrument.Symbol, request.Side, request.Type, request.TimeInForce, request.Quantity, request.Price, request.StopPrice, clock.GetUtcNow());

        // The rulebook first, as far as it needs no market price (all of it but a market order's minimum notional,
        // checked below once the price is known): an invalid clientOrderId never reaches the database.
        if (OrderValidator.Validate(order, instrument) is { Count: > 0 } invalid)
        {
            return Fail(new OrderProblem(OrderProblem.Validation, invalid[0].Message, invalid[0].Field));
        }

        if (request.ClientOrderId is { } clientOrderId && await store.FindByClientOrderIdAsync(request.UserId, clientOrderId, ct) is { } existing)
        {
            return SameContent(existing, request, instrument)
                ? new OrderOutcome(existing, false, null)
                : Fail(new OrderProblem(OrderProblem.ClientOrderIdConflict,
                    $"clientOrderId '{clientOrderId}' was already used for a different order ({existing.Id}); use a new clientOrderId for a new order.",
                    "clientOrderId"));
        }

        // Independent reads (MARKET_RAW's newest print, the engine's view of the account): asked at the same time, so
        // the order waits for the slower of the two instead of both.
        var referenceRead = lastTrades.GetAsync(instrument.Exchange, instrument.Symbol, ct);
        var exposure = await loop.GetExposureAsync(request.UserId, instrument, ct);
        var reference = await referenceRead;
        var lastPrice = reference?.Price ?? exposure.LastPrice;
        if (OrderValidator.Validate(order, instrument, lastPrice) is { Count: > 0 } errors)
        {
            return Fail(new OrderProblem(OrderProblem.Validation, errors[0].Message, errors[0].Field));
        }

        var orderPrice = order.Type switch
        {
            OrderType.Limit or OrderType.StopLimit => order.Price,
            OrderType.StopMarket => order.StopPrice,
            _ => lastPrice,
        };
        if (orderPrice is not { } price)
        {
            return Fail(new OrderProblem(OrderProblem.Validation,
                $"No trade has been seen on {instrument.Key} yet, so a market order cannot be priced; use a limit order.", "type"));
        }

        var decision = await risk.CheckAsync(new RiskCheckRequest(request.UserId, instrument.Exchange, instrument.Symbol, request.Side,
            request.Quantity, price, exposure.OpenOrders, exposure.PositionQuantity * (lastPrice ?? price), exposure.DailyPnl), ct);
        if (!decision.Accepted)
        {
            logger.LogInformation("Order of {UserId} on {Market} rejected by risk: {Limit} {Reason}", request.UserId, instrument.Key, decision.Limit, decision.Reason);
            return Fail(decision.Limit is null
                ? new OrderProblem(OrderProblem.RiskUnavailable, decision.Reason ?? "The risk manager could not check the order.")
                : new OrderProblem(OrderProblem.RiskRejected, decision.Reason ?? $"Rejected by {decision.Limit}.", Limit: decision.Limit));
        }

        var result = await loop.SubmitAsync(order, reference, ct);
        if (!result.Accepted)
        {
            var error = result.Errors.FirstOrDefault() ?? new FieldError("quantity", "The order was refused.");
            return Fail(new OrderProblem(OrderProblem.Validation, error.Message, error.Field));
        }

        // Debug, not Information: every accepted order is already stored, published on trading.order.{userId} and traced;
        // at tens of orders a second an info line each was CPU (formatting, the console, the log collector) taken from
        // the orders themselves on a small machine. Rejections stay at Information: they are what an operator looks for.
        logger.LogDebug("Accepted {Side} {Type} order {OrderId} of {UserId}: {Quantity} {Market} (strategy {StrategyId})",
            order.Side, order.Type, order.Id, order.UserId, order.Quantity, instrument.Key, order.StrategyId);
        return new OrderOutcome(result.Order, true, null);
    }

    public async Task<OrderOutcome> CancelAsync(Guid userId, Guid orderId, CancellationToken ct)
    {
        if (await loop.CancelAsync(userId, orderId, clock.GetUtcNow(), ct) is { } canceled)
        {
            return new OrderOutcome(canceled, false, null);
        }

        var stored = await store.FindOrderAsync(userId, orderId, ct);
        return stored switch
        {
            null => Fail(new OrderProblem(OrderProblem.NotFound, "The order does not exist or is not yours.")),
            { Status: OrderStatus.Canceled } => new OrderOutcome(stored, false, null), // cancelling twice is harmless
            _ => Fail(new OrderProblem(OrderProblem.OrderNotOpen,
                $"The order is {Storage.WireNames.Of(stored.Status)}; only new or partially filled orders can be canceled.")),
        };
    }

    /// <summary>
    /// Which book the order is for: a known exchange and symbol (in the exchange's spelling too). Every other rule is
    /// <see cref="OrderValidator"/>'s, the one rulebook (<see cref="AdmitAsync"/>).
    /// </summary>
    private OrderProblem? Shape(SubmitOrderRequest r, out Instrument? instrument)
    {
        instrument = null;
        if (string.IsNullOrWhiteSpace(r.Exchange))
        {
            return Invalid("exchange", $"exchange is required (one of: {string.Join(", ", instruments.Exchanges)}).");
        }

        if (!instruments.IsKnownExchange(r.Exchange.ToLowerInvariant()))
        {
            return Invalid("exchange", $"Unknown exchange '{r.Exchange}'; use one of: {string.Join(", ", instruments.Exchanges)}.");
        }

        if (string.IsNullOrWhiteSpace(r.Symbol))
        {
            return Invalid("symbol", "symbol is required (e.g. BTCUSDT).");
        }

        if ((instrument = instruments.Find(r.Exchange.ToLowerInvariant(), r.Symbol)) is null)
        {
            return Invalid("symbol", $"Unknown symbol '{r.Symbol}' on {r.Exchange.ToLowerInvariant()}; see GET /api/v1/markets.");
        }

        return null;
    }

    private static bool SameContent(OrderEvent o, SubmitOrderRequest r, Instrument instrument) =>
        o.Exchange == instrument.Exchange && o.Symbol == instrument.Symbol && o.Side == r.Side && o.Type == r.Type
        && o.TimeInForce == r.TimeInForce && o.Quantity == r.Quantity && o.Price == r.Price && o.StopPrice == r.StopPrice
        && o.StrategyId == r.StrategyId;

    private static OrderProblem Invalid(string field, string detail) => new(OrderProblem.Validation, detail, field);

    private static OrderOutcome Fail(OrderProblem problem) => new(null, false, problem);

    internal static string Format(decimal value) => value.ToString(CultureInfo.InvariantCulture);
}
