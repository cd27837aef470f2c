using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.Alert.Notifications;

/// <summary>
/// A delivery that failed for good, on <c>deadletter.alert-{channel}</c> (stream DEADLETTER) with the project's
/// dead-letter headers, so one tool reads every dead letter. The message id is the delivery's key and attempt count:
/// a worker that dies between this and marking the row failed publishes it again, and the bus drops the copy.
/// </summary>
public sealed class DeadLetters(INatsJSContext js, ILogger<DeadLetters> logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task PublishAsync(OutboxDelivery delivery, string reason, CancellationToken ct)
    {
        var consumer = $"alert-{delivery.Channel}";
        var subject = Subjects.DeadLetter(consumer);
        var headers = new NatsHeaders
        {
            [DeadLetterHeaders.Reason] = reason,
            [DeadLetterHeaders.Consumer] = consumer,
            [DeadLetterHeaders.OriginalSubject] = Subjects.AlertsFired(delivery.UserId),
        };
        // The payload (for an alert: the firing) with where it was going and its key.
        var body = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var property in delivery.Payload.EnumerateObject())
        {
            body[property.Name] = property.Value;
        }

        body["notificationId"] = delivery.Id;
        body["channel"] = delivery.Channel;
        body["target"] = delivery.Target;
        try
        {
            using var activity = NatsTracing.StartPublish(subject, headers);
            var ack = await js.PublishAsync(subject, JsonSerializer.SerializeToUtf8Bytes(body, Json), headers: headers,
                opts: new NatsJSPubOpts { MsgId = $"{delivery.Id}:{delivery.Attempt}" }, cancellationToken: ct);
            ack.EnsureStored();
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            logger.LogError(ex, "Could not publish the dead letter of notification {NotificationId} (event {EventId}); it is marked failed in the outbox",
                delivery.Id, delivery.EventId);
        }
    }
}
