namespace QuantTrader.Alert.Notifications;

/// <summary>
/// One way of telling a user something (a signed webhook, Telegram, Discord, Slack, email). The delivery
/// worker owns everything around a send — claiming the outbox row, per-destination queues, concurrency and breaker,
/// retries with backoff, recording attempts, dead letters — so a channel only says where a target goes and sends one
/// attempt. A channel must put <see cref="OutboxDelivery.Id"/> (the idempotency key) into what it sends, so the
/// receiver can recognise a second attempt of a delivery it already acted on.
/// </summary>
public interface INotificationChannel
{
    /// <summary>The channel's name in <c>notification_outbox.channel</c> (<c>webhook</c>).</summary>
    string Name { get; }

    /// <summary>What a target shares its queue, concurrency and breaker with (a webhook: its host:port).</summary>
    string DestinationOf(string target);

    /// <summary>
    /// One attempt. Throws only when nothing was sent because of our side (the database down while reading a secret):
    /// the worker then retries without counting an attempt. <paramref name="ct"/> is cancelled on shutdown.
    /// </summary>
    Task<ChannelResult> SendAsync(OutboxDelivery delivery, CancellationToken ct);
}

/// <summary>How one attempt went, from the worker's point of view.</summary>
public enum AttemptOutcome
{
    /// <summary>The receiver took it (a webhook: 2xx).</summary>
    Delivered,

    /// <summary>The receiver answered and refused (another HTTP status): alive, the delivery is retried.</summary>
    Refused,

    /// <summary>The receiver answered that it will never take this delivery (an SMTP 5xx: no such mailbox, message
    /// refused): alive, and the delivery fails at once with the answer as its reason — a retry would only be refused again.</summary>
    Rejected,

    /// <summary>No connection or no answer in time: retried, and counted against the destination's breaker.</summary>
    Unreachable,
}

/// <param name="RetryAfter">When the receiver said how long to wait (HTTP 429/503 <c>Retry-After</c>, Telegram's
/// <c>retry_after</c>): the next attempt waits at least that long.</param>
public sealed record ChannelResult(AttemptOutcome Outcome, int? StatusCode = null, string? Error = null, TimeSpan? RetryAfter = null);
