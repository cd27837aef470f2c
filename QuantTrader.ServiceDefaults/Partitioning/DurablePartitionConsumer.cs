using Microsoft.Extensions.Logging;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace QuantTrader.ServiceDefaults.Partitioning;

/// <summary>
/// A partition's durable JetStream consumer whose acknowledgement is the checkpoint: each message is handled and then
/// acked, so the partition's next owner resumes after the last acked message and a message handled but not acked
/// (a crash in between) comes again — handlers must recognise it (by the id of what it carries).
/// Messages are pulled in short fetches that are always handled to the end: when the lease stops, the fetch in hand is
/// finished and acked before returning, so a graceful hand-over leaves nothing delivered-but-unacked for the next
/// owner to wait out (only a crash does: those come again after <see cref="ConsumerConfig.AckWait"/>).
/// </summary>
public static class DurablePartitionConsumer
{
    public static readonly TimeSpan FetchExpiry = TimeSpan.FromSeconds(2);

    public static async Task RunAsync(
        INatsJSContext js, string stream, ConsumerConfig config, PartitionLease lease,
        Func<INatsJSMsg<byte[]>, Task> handle, ILogger logger)
    {
        var consumer = await js.CreateOrUpdateConsumerAsync(stream, config, lease.Stopping);
        var options = new NatsJSFetchOpts { MaxMsgs = 100, Expires = FetchExpiry };
        while (!lease.Stopping.IsCancellationRequested)
        {
            // Not cancelled by the lease: what this fetch delivers is handled and acked, even while stopping.
            await foreach (var message in consumer.FetchAsync<byte[]>(options, cancellationToken: CancellationToken.None))
            {
                await handle(message);
                await message.AckAsync(cancellationToken: CancellationToken.None);
            }
        }
        logger.LogDebug("Consumer {Consumer} of partition {Partition} drained", config.Name, lease.Partition);
    }
}
