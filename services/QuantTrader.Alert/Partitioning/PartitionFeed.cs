using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace QuantTrader.Alert.Partitioning;

/// <summary>
/// One partition's messages of one stream from a checkpoint on: a consumer filtered by the server to the partition's
/// subjects (the single filter subject NATS 2.9 honours), without acknowledgements — the partition's checkpoint, not
/// the consumer, records what is done — kept in the server's memory under a name of its own, deleted when the
/// partition stops (or by the server after a minute without this replica). If the consumer vanishes (a NATS restart),
/// consuming fails and the partition restarts from its checkpoint.
/// </summary>
public sealed class PartitionFeed(INatsJSContext js, string stream, INatsJSConsumer consumer) : IAsyncDisposable
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(5);

    public static async Task<PartitionFeed> OpenAsync(INatsJSContext js, string stream, string filter, string name, ulong after, CancellationToken ct)
    {
        var consumer = await js.CreateOrUpdateConsumerAsync(stream, new ConsumerConfig($"{name}-{Guid.NewGuid():N}")
        {
            FilterSubject = filter,
            DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence,
            OptStartSeq = after + 1,
            AckPolicy = ConsumerConfigAckPolicy.None,
            MemStorage = true,
            InactiveThreshold = TimeSpan.FromMinutes(1),
        }, ct);
        return new PartitionFeed(js, stream, consumer);
    }

    /// <summary>Hands each message with its stream sequence to <paramref name="step"/>, one at a time, until <paramref name="stop"/>.</summary>
    public async Task ConsumeAsync(Func<INatsJSMsg<byte[]>, ulong, Task> step, CancellationToken stop)
    {
        using var lost = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var opts = new NatsJSConsumeOpts
        {
            MaxMsgs = 1000,
            IdleHeartbeat = Heartbeat,
            Expires = Heartbeat * 6,
            NotificationHandler = (notification, _) =>
            {
                if (notification is NatsJSTimeoutNotification or NatsJSProtocolNotification { HeaderCode: 404 or 409 or 503 })
                {
                    lost.Cancel();
                }

                return Task.CompletedTask;
            },
        };
        try
        {
            await foreach (var msg in consumer.ConsumeAsync<byte[]>(opts: opts, cancellationToken: lost.Token))
            {
                if (msg.Metadata is { } meta)
                {
                    await step(msg, meta.Sequence.Stream);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return;
        }

        if (!stop.IsCancellationRequested)
        {
            throw new InvalidOperationException($"The {stream} consumer {consumer.Info.Name} is gone (NATS restarted?); the partition restarts from its checkpoint");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await js.DeleteConsumerAsync(stream, consumer.Info.Name, timeout.Token);
        }
        catch (Exception)
        {
            // Gone with NATS, or NATS away: the server drops it after its inactive threshold anyway.
        }
    }
}
