namespace QuantTrader.Alert.Webhooks;

/// <summary>Configuration section <c>Alerts:Webhooks</c>.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Alerts:Webhooks";

    /// <summary>Lets webhooks call loopback/private/link-local addresses (development, tests, on-premise receivers).</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Tries per event, the first included; after the last, a dead-letter record.</summary>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>First retry delay; doubled each retry, with jitter (1 s, 2 s, 4 s, 8 s, 16 s by default).</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}
