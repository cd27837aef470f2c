namespace QuantTrader.Alert.Webhooks;

/// <summary>Configuration section <c>Alerts:Webhooks</c>.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Alerts:Webhooks";

    /// <summary>Lets webhooks call loopback and private (RFC 1918, unique-local) addresses (development, tests,
    /// on-premise receivers). Special-use ranges (TEST-NET, link-local, …) stay refused (<see cref="WebhookAddressPolicy"/>).</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Tries per event, the first included; after the last, a dead-letter record.</summary>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>First retry delay; doubled each retry, with jitter (1 s, 2 s, 4 s, 8 s, 16 s by default).</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Attempts in flight to one destination (scheme-independent host:port) at a time; the rest wait in its queue.</summary>
    public int PerDestinationConcurrency { get; set; } = 4;

    /// <summary>Consecutive unreachable attempts (connection failure, timeout) that open a destination's breaker.</summary>
    public int BreakerFailureThreshold { get; set; } = 5;

    /// <summary>How long an open breaker holds a destination's deliveries before one probe attempt goes out.</summary>
    public TimeSpan BreakerOpenFor { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Deliveries waiting for one destination; a new one beyond this is dead-lettered at once (memory bound).</summary>
    public int MaxQueuedPerDestination { get; set; } = 1000;

    /// <summary>
    /// On shutdown, how long deliveries already queued or in flight may still go out before the process stops: a
    /// rolling update's SIGTERM then loses only deliveries that are waiting to retry or whose destination is slow
    /// (docs/alerts.md § Replicas). It must fit in the grace period with the partitions' drain.
    /// </summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
