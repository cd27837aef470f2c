namespace QuantTrader.Alert.Webhooks;

/// <summary>
/// Configuration section <c>Alerts:Webhooks</c>: what is particular to the webhook channel. Retries, fairness and
/// the breaker are every channel's (<c>Notifications:Delivery</c>, <see cref="Notifications.DeliveryOptions"/>).
/// </summary>
public sealed class WebhookOptions
{
    public const string Section = "Alerts:Webhooks";

    /// <summary>Lets webhooks call loopback and private (RFC 1918, unique-local) addresses (development, tests,
    /// on-premise receivers). Special-use ranges (TEST-NET, link-local, …) stay refused (<see cref="WebhookAddressPolicy"/>).</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>How long one attempt may wait for an answer (must stay below <c>Notifications:Delivery:ClaimTimeout</c>).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}
