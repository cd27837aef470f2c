using Microsoft.Extensions.Options;
using QuantTrader.Accounts.Plans;
using QuantTrader.Accounts.Users;
using Stripe;
using Stripe.Checkout;

namespace QuantTrader.Accounts.Billing;

/// <summary>
/// Moves users between plans from Stripe's events. The signature is checked over the raw body with Stripe's
/// scheme (300 s tolerance); each event id is handled once. Stripe does not deliver in order: events about one
/// subscription are applied in the order of their <c>created</c> time, an older one (a late
/// <c>customer.subscription.updated</c> after <c>…deleted</c>) is recorded and ignored, and a deleted subscription
/// stays ended (<see cref="UserStore.ApplyStripeEventAsync"/>).
/// </summary>
public sealed class StripeWebhook(IOptions<StripeSettings> settings, UserStore users, PlanCatalog plans, AccountChanges changes, ILogger<StripeWebhook> logger)
{
    public enum Outcome { Applied, Replayed, Ignored, Stale }

    /// <exception cref="StripeException">bad signature, stale timestamp or malformed payload</exception>
    public async Task<Outcome> HandleAsync(string body, string? signature, CancellationToken ct)
    {
        var stripeEvent = EventUtility.ConstructEvent(body, signature ?? "", settings.Value.WebhookSecret,
            settings.Value.WebhookToleranceSeconds, throwOnApiVersionMismatch: false);

        var (userId, plan, reason) = await DecideAsync(stripeEvent, ct);
        var order = OrderOf(stripeEvent);
        switch (await users.ApplyStripeEventAsync(stripeEvent.Id, stripeEvent.Type, userId, plan, reason, order, ct))
        {
            case UserStore.StripeEventResult.Replayed:
                logger.LogInformation("Stripe event {EventId} ({Type}) was already handled; ignored", stripeEvent.Id, stripeEvent.Type);
                return Outcome.Replayed;
            case UserStore.StripeEventResult.Stale:
                logger.LogInformation("Stripe event {EventId} ({Type}, created {Created:o}) is older than the state of subscription {Subscription}, or it ended; recorded, not applied",
                    stripeEvent.Id, stripeEvent.Type, order!.Created, order.SubscriptionId);
                return Outcome.Stale;
        }
        if (userId is { } id && plan is not null)
        {
            logger.LogInformation("User {UserId} moved to plan {Plan}: {Reason}", id, plan, reason);
            await changes.PublishAsync(id, "plan changed", ct);
            return Outcome.Applied;
        }
        logger.LogInformation("Stripe event {EventId} ({Type}) recorded; no plan change ({Reason})", stripeEvent.Id, stripeEvent.Type, reason);
        return Outcome.Ignored;
    }

    /// <summary>The subscription an event is about, for ordering; null for events about none.</summary>
    private static StripeSubscriptionOrder? OrderOf(Event e)
    {
        var created = new DateTimeOffset(DateTime.SpecifyKind(e.Created, DateTimeKind.Utc));
        return e.Data.Object switch
        {
            Subscription s => new StripeSubscriptionOrder(s.Id, created,
                Ends: e.Type == EventTypes.CustomerSubscriptionDeleted || s.Status is "canceled" or "incomplete_expired"),
            Session { SubscriptionId: { Length: > 0 } id } => new StripeSubscriptionOrder(id, created, Ends: false),
            Invoice { Parent.SubscriptionDetails.SubscriptionId: { Length: > 0 } id } => new StripeSubscriptionOrder(id, created, Ends: false),
            _ => null,
        };
    }

    private async Task<(Guid? User, string? Plan, string Reason)> DecideAsync(Event e, CancellationToken ct)
    {
        switch (e.Data.Object)
        {
            case Session session when e.Type == EventTypes.CheckoutSessionCompleted:
                if (Guid.TryParse(session.Metadata?.GetValueOrDefault("userId") ?? session.ClientReferenceId, out var userId)
                    && session.Metadata?.GetValueOrDefault("plan") is { } planName && plans.TryGet(planName, out var plan))
                {
                    return (userId, plan.Name, $"checkout {session.Id} completed");
                }
                return (null, null, "checkout session without a known user and plan");

            case Subscription subscription when e.Type is EventTypes.CustomerSubscriptionUpdated or EventTypes.CustomerSubscriptionDeleted:
            {
                var user = await users.FindByStripeCustomerAsync(subscription.CustomerId, ct);
                if (user is null)
                {
                    return (null, null, $"unknown customer {subscription.CustomerId}");
                }
                if (e.Type == EventTypes.CustomerSubscriptionDeleted || subscription.Status is "canceled" or "unpaid" or "incomplete_expired")
                {
                    return (user.Id, PlanCatalog.Free, $"subscription {subscription.Id} {subscription.Status}");
                }
                if (subscription.Status is "active" or "trialing"
                    && plans.ByStripePrice(subscription.Items?.Data?.FirstOrDefault()?.Price?.Id) is { } paid)
                {
                    return (user.Id, paid.Name, $"subscription {subscription.Id} {subscription.Status}");
                }
                return (null, null, $"subscription {subscription.Id} is {subscription.Status}");
            }

            case Invoice invoice when e.Type == EventTypes.InvoicePaymentFailed:
            {
                // A failed payment ends the paid plan now; a later successful payment moves it back
                // through customer.subscription.updated.
                var user = invoice.CustomerId is null ? null : await users.FindByStripeCustomerAsync(invoice.CustomerId, ct);
                return user is null
                    ? (null, null, $"unknown customer {invoice.CustomerId}")
                    : (user.Id, PlanCatalog.Free, $"invoice {invoice.Id} payment failed");
            }

            default:
                return (null, null, $"event type {e.Type} not handled");
        }
    }
}
