using System.Globalization;
using Microsoft.Extensions.Options;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Problems;

namespace QuantTrader.Alert.Notifications;

/// <summary>The caller's notification deliveries and resending a failed one (docs/notifications.md § API).</summary>
public static class NotificationsApi
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    private static readonly string[] Statuses = [OutboxStore.Pending, OutboxStore.Delivering, OutboxStore.Delivered, OutboxStore.Failed];

    public static WebApplication MapNotificationsApi(this WebApplication app)
    {
        var notifications = app.MapGroup("/api/v1/notifications").WithTags("Notifications").RequireCaller();
        notifications.MapGet("", ListAsync).WithSummary("The caller's notification deliveries, newest first; ?status=failed for the undeliverable ones.");
        notifications.MapPost("/{id:guid}/resend", ResendAsync).WithSummary("Deliver a failed notification again, with the same idempotency key.");
        return app;
    }

    private static async Task<IResult> ListAsync(HttpContext http, OutboxStore store, string? status, string? limit, CancellationToken ct)
    {
        if (status is not null && !Statuses.Contains(status))
        {
            return ProblemResults.Validation("status", $"status must be one of {string.Join(", ", Statuses)}.");
        }

        var count = DefaultLimit;
        if (!string.IsNullOrEmpty(limit) && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1))
        {
            return ProblemResults.Validation("limit", "'limit' must be a positive integer.");
        }

        return TypedResults.Ok(await store.ListAsync(http.GetCaller().UserId, status, Math.Min(count, MaxLimit), ct));
    }

    private static async Task<IResult> ResendAsync(
        Guid id, HttpContext http, OutboxStore store, NotificationOutbox outbox, IOptions<DeliveryOptions> options, TimeProvider time, CancellationToken ct)
    {
        var (result, view) = await store.ResendAsync(http.GetCaller().UserId, id, options.Value.MaxAttempts, time.GetUtcNow(), ct);
        switch (result)
        {
            case OutboxStore.ResendResult.NotFound:
                return ProblemResults.NotFound("The notification");
            case OutboxStore.ResendResult.NotFailed:
                return ProblemResults.Conflict("notification-not-failed", $"Only a failed notification can be resent; this one is {view!.Status}.");
            default:
                outbox.Notify();
                return TypedResults.Accepted($"/api/v1/notifications?status=pending", view);
        }
    }
}
