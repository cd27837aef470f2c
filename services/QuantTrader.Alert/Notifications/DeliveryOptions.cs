namespace QuantTrader.Alert.Notifications;

/// <summary>Configuration section <c>Notifications:Delivery</c>: retries, fairness and claims, for every channel.</summary>
public sealed class DeliveryOptions
{
    public const string Section = "Notifications:Delivery";

    /// <summary>Attempts per delivery, the first included; after the last, the delivery is failed (and a resend allows as many again).</summary>
    public int MaxAttempts { get; set; } = 6;

    /// <summary>First retry delay; doubled each retry, with ±20 % jitter (1 s, 2 s, 4 s, 8 s, 16 s by default).</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Attempts in flight to one destination at a time, per replica; the rest wait.</summary>
    public int PerDestinationConcurrency { get; set; } = 4;

    /// <summary>Consecutive unreachable attempts (connection failure, timeout) that open a destination's breaker.</summary>
    public int BreakerFailureThreshold { get; set; } = 5;

    /// <summary>How long an open breaker holds a destination's deliveries (back in the outbox) before one probe goes out.</summary>
    public TimeSpan BreakerOpenFor { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a claim lasts: a row claimed by a worker that dies is due again this long after its claim or its last
    /// attempt began. Must exceed the longest attempt (a webhook's <c>Timeout</c>, 10 s), or a slow attempt's row could
    /// be taken by another worker while it is still under way (a duplicate on the wire, recognised by its key).
    /// </summary>
    public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the outbox is looked at when nothing wakes the worker (retries coming due, other replicas' rows).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Rows claimed at most at once.</summary>
    public int ClaimBatch { get; set; } = 100;

    /// <summary>Rows one destination may hold in this worker (queued or in flight); beyond, its rows stay in the outbox.</summary>
    public int MaxHeldPerDestination { get; set; } = 16;

    /// <summary>Rows the worker holds at most in all (memory bound).</summary>
    public int MaxHeld { get; set; } = 1000;

    /// <summary>On shutdown, how long attempts in flight may finish; then they are cut off and everything held goes back to pending.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
