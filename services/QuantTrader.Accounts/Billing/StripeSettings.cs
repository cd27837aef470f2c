namespace QuantTrader.Accounts.Billing;

/// <summary>
/// <c>Stripe:*</c> configuration. The AppHost passes the keys from its secret parameters; nothing here is
/// ever logged. <see cref="ApiBase"/> exists for tests that point Stripe.net at a local fake.
/// </summary>
public sealed class StripeSettings
{
    public string? SecretKey { get; set; }
    public string? WebhookSecret { get; set; }
    public string? ApiBase { get; set; }
    public string SuccessUrl { get; set; } = "http://localhost:8080/billing/success?session_id={CHECKOUT_SESSION_ID}";
    public string CancelUrl { get; set; } = "http://localhost:8080/billing/cancel";

    /// <summary>Stripe's own limit for how old a signed webhook may be.</summary>
    public long WebhookToleranceSeconds { get; set; } = 300;

    public bool CheckoutEnabled => !string.IsNullOrWhiteSpace(SecretKey);
    public bool WebhookEnabled => !string.IsNullOrWhiteSpace(WebhookSecret);
}
