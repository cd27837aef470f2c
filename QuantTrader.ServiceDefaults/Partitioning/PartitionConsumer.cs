using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace QuantTrader.ServiceDefaults.Partitioning;

/// <summary>
/// Reads one partition's subjects of a stream in stream order, from a given point, without acknowledgements — what
/// NATS.Net's ordered consumer does, but with the single <c>filter_subject</c> that nats-server 2.9 honours: the ordered
/// consumer sends <c>filter_subjects</c>, which 2.9 ignores, so every partition's reader would receive every partition's
/// messages (tests/QuantTrader.Partitioning.Tests/PartitionConsumerTests). A named ephemeral consumer in the server's
/// memory; when it is lost (NATS restarted, missed heartbeats, a gap in its delivery sequence) a new one starts right
/// after the last message delivered, so the reader sees each message once and in order.
/// </summary>
public sealed class PartitionConsumer(INatsJSContext js, string stream, string filterSubject, string name, ILogger logger)
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(5);

    private long _pendingAtStart = -1;

    /// <summary>
    /// How many messages of the partition lay between the start point and the end of the stream when the first consumer
    /// was created (null before): the replay's length. Counted by the server for the filter, unlike the stream's last
    /// sequence, which can lie far beyond a partition's last message.
    /// </summary>
    public ulong? PendingAtStart => Interlocked.Read(ref _pendingAtStart) is var pending and >= 0 ? (ulong)pending : null;

    /// <param name="afterSequence">The last stream sequence already processed (0: none).</param>
    /// <param name="fromTime">Without a sequence: start at this time (null: at the stream's first message).</param>
    public async IAsyncEnumerable<INatsJSMsg<byte[]>> ReadAsync(ulong afterSequence, DateTimeOffset? fromTime, [EnumeratorCancellation] CancellationToken ct)
    {
        var last = afterSequence;
        while (!ct.IsCancellationRequested)
        {
            INatsJSConsumer consumer;
            try
            {
                consumer = await js.CreateOrUpdateConsumerAsync(stream, Config(last, fromTime), ct);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && ex is NatsException)
            {
                logger.LogWarning("Creating the consumer of {Filter} on {Stream} failed ({Error}); trying again", filterSubject, stream, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
                continue;
            }

            Interlocked.CompareExchange(ref _pendingAtStart, (long)consumer.Info.NumPending, -1);
            using var lost = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var opts = new NatsJSConsumeOpts
            {
                MaxMsgs = 1000, // NATS.Net's default; it must be given once any other option is
                IdleHeartbeat = Heartbeat,
                Expires = Heartbeat * 6,
                // NATS.Net's plain consume keeps pulling from a vanished consumer forever: a server restart ("409 Server
                // Shutdown", 404) or a crash (missed heartbeats) ends this one, and the loop creates the next.
                NotificationHandler = (notification, _) =>
                {
                    if (notification is NatsJSTimeoutNotification or NatsJSProtocolNotification { HeaderCode: 404 or 409 or 503 })
                    {
                        logger.LogWarning("The consumer of {Filter} on {Stream} is gone ({Notification}); creating it again after sequence {Sequence}",
                            filterSubject, stream, notification.Name, last);
                        lost.Cancel();
                    }
                    return Task.CompletedTask;
                },
            };

            var messages = consumer.ConsumeAsync<byte[]>(opts: opts, cancellationToken: lost.Token).GetAsyncEnumerator(lost.Token);
            ulong delivered = 0;
            try
            {
                while (true)
                {
                    INatsJSMsg<byte[]> msg;
                    try
                    {
                        if (!await messages.MoveNextAsync())
                        {
                            break;
                        }
                        msg = messages.Current;
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        break;
                    }
                    catch (NatsJSException ex) when (!ct.IsCancellationRequested)
                    {
                        logger.LogWarning("The consumer of {Filter} on {Stream} failed ({Error}); creating it again after sequence {Sequence}", filterSubject, stream, ex.Message, last);
                        break;
                    }

                    if (msg.Metadata is not { } metadata)
                    {
                        continue;
                    }

                    if (metadata.Sequence.Consumer != delivered + 1)
                    {
                        // Without acks nothing is delivered again: a lost pull response is a gap. Start over after the last one.
                        logger.LogWarning("The consumer of {Filter} on {Stream} skipped a message (delivery {Got}, expected {Expected}); creating it again after sequence {Sequence}",
                            filterSubject, stream, metadata.Sequence.Consumer, delivered + 1, last);
                        break;
                    }

                    delivered = metadata.Sequence.Consumer;
                    last = metadata.Sequence.Stream;
                    yield return msg;
                }
            }
            finally
            {
                await messages.DisposeAsync();
                await DeleteAsync(consumer.Info.Name);
            }

            if (!ct.IsCancellationRequested)
            {
                // A consumer lost again right away (NATS still starting) is not recreated in a tight loop.
                await Task.Delay(TimeSpan.FromMilliseconds(200), CancellationToken.None);
            }
        }
    }

    private ConsumerConfig Config(ulong after, DateTimeOffset? fromTime)
    {
        // A name of its own: NATS.Net then puts the filter into the create request's subject, the form 2.9 accepts with
        // a wildcard filter (without a name the filter's first token is taken for the name and the request refused).
        var config = new ConsumerConfig($"{name}-{Guid.NewGuid():N}")
        {
            FilterSubject = filterSubject,
            AckPolicy = ConsumerConfigAckPolicy.None,
            MemStorage = true,
            NumReplicas = 1,
            // A replica killed with its consumers open: the server removes them by itself.
            InactiveThreshold = TimeSpan.FromSeconds(30),
        };
        if (after > 0)
        {
            config.DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence;
            config.OptStartSeq = after + 1;
        }
        else if (fromTime is { } time)
        {
            config.DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartTime;
            config.OptStartTime = time;
        }
        else
        {
            config.DeliverPolicy = ConsumerConfigDeliverPolicy.All;
        }
        return config;
    }

    private async Task DeleteAsync(string consumer)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await js.DeleteConsumerAsync(stream, consumer, timeout.Token);
        }
        catch (Exception ex) when (ex is NatsException or OperationCanceledException)
        {
            // Gone already, or NATS away: the inactive threshold removes it.
        }
    }
}
