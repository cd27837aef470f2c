using NATS.Client.Core;
using NATS.Client.JetStream;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.Persistence.Ingest;

/// <summary>
/// Poison messages go to <c>deadletter.persistence</c> (the DEADLETTER stream, which persistence owns) with the
/// original payload and the reason in a header, and are then acked: one bad message never blocks a stream.
/// </summary>
public sealed class DeadLetters(INatsJSContext js, ILogger<DeadLetters> logger)
{
    public static readonly string Subject = Subjects.DeadLetter("persistence");

    public async Task SendAsync(string table, INatsJSMsg<byte[]> message, string reason, CancellationToken ct)
    {
        var origin = message.Metadata is { } m ? $"{m.Stream}:{m.Sequence.Stream}" : "unknown";
        var headers = new NatsHeaders
        {
            [DeadLetterHeaders.Reason] = HeaderSafe(reason),
            [DeadLetterHeaders.OriginalSubject] = message.Subject,
            [DeadLetterHeaders.OriginalSequence] = origin,
            [DeadLetterHeaders.Consumer] = $"persistence/{table}",
        };
        using var activity = NatsTracing.StartPublish(Subject, headers);
        // The original position as message id: a redelivered poison message is dead-lettered once.
        var ack = await js.PublishAsync(Subject, message.Data ?? [], headers: headers,
            opts: new NatsJSPubOpts { MsgId = $"persistence:{origin}" }, cancellationToken: ct);
        ack.EnsureStored();
        PersistenceMetrics.DeadLettered.Add(1, PersistenceMetrics.Table(table));
        logger.LogWarning("Dead-lettered message {Origin} on {Subject} for table {Table}: {Reason}", origin, message.Subject, table, reason);
    }

    // NATS headers are single lines; keep the reason readable and bounded.
    private static string HeaderSafe(string reason)
    {
        var flat = reason.Replace('\r', ' ').Replace('\n', ' ');
        return flat.Length <= 512 ? flat : flat[..512];
    }
}
