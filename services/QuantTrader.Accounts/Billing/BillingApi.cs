using Microsoft.Extensions.Options;
using QuantTrader.Accounts.Plans;
using QuantTrader.Accounts.Users;
using QuantTrader.Contracts.Accounts;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Problems;
using Stripe;

namespace QuantTrader.Accounts.Billing;

public sealed record PlanView(string Name, string DisplayName, decimal MonthlyPrice, string Currency, PlanLimits Limits);
public sealed record CheckoutRequest(string? Plan);
public sealed record CheckoutResponse(string Url);

public static class BillingApi
{
    public static WebApplication MapBillingApi(this WebApplication app)
    {
        var billing = app.MapGroup("/api/v1/billing").WithTags("Billing");

        billing.MapGet("/plans", (PlanCatalog plans) =>
                TypedResults.Ok(plans.All.Select(p => new PlanView(p.Name, p.DisplayName, p.MonthlyPrice, p.Currency, p.Limits))))
            .WithSummary("Plans with price and limits.");
        billing.MapPost("/checkout", CheckoutAsync).RequireCaller()
            .WithSummary("A Stripe Checkout Session for the plan; returns its URL.");
        billing.MapPost("/webhook", WebhookAsync)
            .WithSummary("Stripe events, verified by the Stripe-Signature header.");
        return app;
    }

    private static async Task<IResult> CheckoutAsync(CheckoutRequest request, HttpContext http, IOptions<StripeSettings> settings,
        PlanCatalog plans, UserStore users, StripeCheckout checkout, ILogger<StripeCheckout> logger, CancellationToken ct)
    {
        if (!settings.Value.CheckoutEnabled)
        {
            return ProblemResults.Unavailable("billing-not-configured", "Billing is not configured on this installation (no Stripe key).");
        }
        if (string.IsNullOrWhiteSpace(request.Plan) || !plans.TryGet(request.Plan, out var plan))
        {
            return ProblemResults.Validation("plan", $"Unknown plan. Plans: {string.Join(", ", plans.All.Select(p => p.Name))}.");
        }
        if (plan.StripePriceId is null)
        {
            return ProblemResults.Validation("plan", $"The {plan.Name} plan is not sold through checkout.");
        }
        var user = await users.FindAsync(http.GetCaller().UserId, ct);
        if (user is null)
        {
            return ProblemResults.NotFound("The account");
        }
        // A client retry with the same Idempotency-Key gets the same session; without one, the same user
        // asking for the same plan within the hour does.
        var idempotencyKey = http.Request.Headers["Idempotency-Key"].FirstOrDefault() is { Length: > 0 and <= 200 } clientKey
            ? $"checkout-{user.Id}-{clientKey}"
            : $"checkout-{user.Id}-{plan.Name}-{DateTime.UtcNow:yyyyMMddHH}";
        try
        {
            return TypedResults.Ok(new CheckoutResponse(await checkout.CreateSessionAsync(user, plan, idempotencyKey, ct)));
        }
        catch (StripeException ex)
        {
            logger.LogError("Stripe refused a checkout for user {UserId}: {StripeError}", user.Id, ex.StripeError?.Message ?? ex.Message);
            return ProblemResults.Problem(StatusCodes.Status502BadGateway, "payment-provider", "The payment provider refused the request.",
                ex.StripeError?.Message ?? "Stripe did not accept the checkout request.");
        }
    }

    private static async Task<IResult> WebhookAsync(HttpRequest request, IOptions<StripeSettings> settings, StripeWebhook webhook,
        ILogger<StripeWebhook> logger, CancellationToken ct)
    {
        if (!settings.Value.WebhookEnabled)
        {
            return ProblemResults.Unavailable("billing-not-configured", "Billing is not configured on this installation (no webhook secret).");
        }
        // The signature covers the exact bytes Stripe sent: read the raw body, never a re-serialized model.
        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync(ct);
        try
        {
            var outcome = await webhook.HandleAsync(body, request.Headers["Stripe-Signature"], ct);
            return TypedResults.Ok(new { outcome = outcome.ToString().ToLowerInvariant() });
        }
        catch (StripeException ex)
        {
            logger.LogWarning("Refused a Stripe webhook: {Reason}", ex.Message);
            return ProblemResults.Problem(StatusCodes.Status400BadRequest, "invalid-webhook", "The webhook could not be verified.", ex.Message);
        }
    }
}
