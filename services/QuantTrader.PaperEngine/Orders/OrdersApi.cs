using QuantTrader.Contracts.Trading;
using QuantTrader.PaperEngine.Storage;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Problems;
using QuantTrader.ServiceDefaults.Queries;

namespace QuantTrader.PaperEngine.Orders;

/// <summary>
/// POST /api/v1/orders body (API.md). Enums are strings so that a wrong value is a 400 naming the field; that parse is
/// all the API does — every rule is checked on the one path behind it (<see cref="OrderService"/>, <c>OrderValidator</c>).
/// </summary>
public sealed record PlaceOrderBody(
    string? Exchange,
    string? Symbol,
    string? Side,
    string? Type,
    decimal? Quantity,
    decimal? Price,
    decimal? StopPrice,
    string? TimeInForce,
    string? ClientOrderId);

public static class OrdersApi
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public static WebApplication MapOrdersApi(this WebApplication app)
    {
        var orders = app.MapGroup("/api/v1/orders").WithTags("Trading").RequireCaller();
        orders.MapPost("", PlaceAsync)
            .WithSummary("Place a paper order. 201 with the order; 200 with the earlier order when clientOrderId repeats the same order; 400 naming the field; 409 clientOrderId reused for another order; 422 rejected by risk (names the limit); 503 risk unavailable.");
        orders.MapGet("", ListAsync).WithSummary("The caller's orders, oldest first (the newest `limit`, default 100, max 1000), filtered by status and symbol.");
        orders.MapGet("/{id:guid}", GetAsync).WithSummary("One of the caller's orders.");
        orders.MapDelete("/{id:guid}", CancelAsync).WithSummary("Cancel an open order; its locked funds are released.");

        app.MapGet("/api/v1/fills", ListFillsAsync).WithTags("Trading").RequireCaller()
            .WithSummary("The caller's fills, oldest first: from `from` on, else the newest `limit` (default 100, max 1000).");
        return app;
    }

    private static async Task<IResult> PlaceAsync(PlaceOrderBody body, HttpContext http, OrderService orders, CancellationToken ct)
    {
        if (!WireNames.TryParse<OrderSide>(body.Side, out var side))
        {
            return ProblemResults.Validation("side", $"side must be one of: {WireNames.Choices<OrderSide>()}.");
        }

        if (!WireNames.TryParse<OrderType>(body.Type, out var type))
        {
            return ProblemResults.Validation("type", $"type must be one of: {WireNames.Choices<OrderType>()}.");
        }

        var timeInForce = TimeInForce.Gtc;
        if (body.TimeInForce is not null && !WireNames.TryParse(body.TimeInForce, out timeInForce))
        {
            return ProblemResults.Validation("timeInForce", $"timeInForce must be one of: {WireNames.Choices<TimeInForce>()}.");
        }

        // A missing exchange, symbol or quantity is refused on the order path like a wrong one, naming the field.
        var request = new SubmitOrderRequest(http.GetCaller().UserId, null, body.Exchange ?? "", body.Symbol ?? "", side, type, timeInForce,
            body.Quantity ?? 0m, body.Price, body.StopPrice, body.ClientOrderId);
        var outcome = await orders.SubmitAsync(request, ct);
        return outcome switch
        {
            { Problem: { } p } => ToProblem(p),
            { Created: true } => TypedResults.Created($"/api/v1/orders/{outcome.Order!.Id}", outcome.Order),
            _ => TypedResults.Ok(outcome.Order),
        };
    }

    private static async Task<IResult> ListAsync(HttpContext http, PaperStore store, string? status, string? symbol, int? limit, CancellationToken ct)
    {
        OrderStatus? filter = null;
        if (status is not null)
        {
            if (!WireNames.TryParse<OrderStatus>(status, out var parsed))
            {
                return ProblemResults.Validation("status", $"status must be one of: {WireNames.Choices<OrderStatus>()}.");
            }

            filter = parsed;
        }

        return TypedResults.Ok(await store.ListOrdersAsync(http.GetCaller().UserId, filter, symbol?.ToUpperInvariant(), Clamp(limit), ct));
    }

    private static async Task<IResult> GetAsync(Guid id, HttpContext http, PaperStore store, CancellationToken ct) =>
        await store.FindOrderAsync(http.GetCaller().UserId, id, ct) is { } order
            ? TypedResults.Ok(order)
            : ProblemResults.NotFound("The order");

    private static async Task<IResult> CancelAsync(Guid id, HttpContext http, OrderService orders, CancellationToken ct)
    {
        var outcome = await orders.CancelAsync(http.GetCaller().UserId, id, ct);
        return outcome.Problem is { } p ? ToProblem(p) : TypedResults.Ok(outcome.Order);
    }

    private static async Task<IResult> ListFillsAsync(HttpContext http, PaperStore store, string? from, string? to, int? limit, CancellationToken ct)
    {
        if (!TryParseTime(from, out var fromTime))
        {
            return ProblemResults.Validation("from", "from must be an ISO-8601 time (2024-03-01T00:00:00Z) or epoch milliseconds.");
        }

        if (!TryParseTime(to, out var toTime))
        {
            return ProblemResults.Validation("to", "to must be an ISO-8601 time (2024-03-01T00:00:00Z) or epoch milliseconds.");
        }

        return TypedResults.Ok(await store.ListFillsAsync(http.GetCaller().UserId, fromTime, toTime, Clamp(limit), ct));
    }

    /// <summary>Problem details for an order problem; the same slugs the NATS reply carries.</summary>
    public static IResult ToProblem(OrderProblem p) => p.Slug switch
    {
        OrderProblem.Validation => ProblemResults.Validation(p.Field ?? "body", p.Detail),
        OrderProblem.NotFound => ProblemResults.NotFound("The order"),
        OrderProblem.ClientOrderIdConflict or OrderProblem.OrderNotOpen => ProblemResults.Conflict(p.Slug, p.Detail),
        OrderProblem.RiskRejected => ProblemResults.Problem(StatusCodes.Status422UnprocessableEntity, p.Slug, "Rejected by the risk manager.", p.Detail,
            new Dictionary<string, object?> { ["limit"] = p.Limit }),
        _ => ProblemResults.Unavailable(p.Slug, p.Detail),
    };

    private static int Clamp(int? limit) => Math.Clamp(limit ?? DefaultLimit, 1, MaxLimit);

    private static bool TryParseTime(string? text, out DateTimeOffset? time) => QueryTime.TryParse(text, out time);
}
