using System.Text.Json;

namespace QuantTrader.Alert.Notifications;

/// <summary>
/// A delivery as a worker holds it while its claim lasts: the outbox row, and the claim that entitles this worker —
/// and no other — to attempt it (<see cref="ClaimToken"/>).
/// </summary>
/// <param name="Id">The idempotency key (the row's id).</param>
/// <param name="Attempts">Attempts started before this claim.</param>
public sealed record OutboxDelivery(
    Guid Id, Guid UserId, Guid EventId, string Kind, string Channel, string Target, string Destination, JsonElement Payload,
    int Attempts, int MaxAttempts, Guid ClaimToken)
{
    /// <summary>The attempt under way (set when it is begun in the outbox).</summary>
    public int Attempt { get; set; }
}

/// <summary>A delivery to write into the outbox with the event that causes it (same transaction).</summary>
/// <param name="Id">Its idempotency key (<see cref="NotificationKeys"/>).</param>
/// <param name="Payload">The event's content as JSON, channel-independent.</param>
public sealed record OutboxEntry(Guid Id, string Kind, string Channel, string Target, string Destination, string Payload, int MaxAttempts);
