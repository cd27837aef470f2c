using System.Text.Json;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Identity;

namespace QuantTrader.Gateway.Streaming;

/// <summary>
/// A user's <c>orders</c>, <c>fills</c> or <c>alerts</c>: a JetStream consumer of its own, filtered to the user's one
/// subject (<c>trading.fill.{userId:N}.{partition}</c>, <c>trading.order.…</c>, <c>alerts.fired.{userId:N}</c>). The stream
/// sequence of each message is the channel's <c>seq</c>: it only grows, and a client that reconnects with <c>since</c>
/// is replayed everything of its own after it. Nothing about the cursor lives in the gateway, so any replica can
/// resume any client.
/// </summary>
public static class SequencedFeed
{
    public static async Task<IAsyncDisposable> StartAsync(StreamChannel channel, Caller caller, ulong? since, JsonElement? id,
        OutboundFrames connection, INatsJSContext js, ILogger logger, CancellationToken ct)
    {
        var (stream, subject, type) = channel.Kind switch
        {
            ChannelKind.Orders => (Streams.Trading().Name!, Subjects.TradingOrder(caller.UserId), "order"),
            ChannelKind.Fills => (Streams.Trading().Name!, Subjects.TradingFill(caller.UserId), "fill"),
            ChannelKind.Alerts => (Streams.Alerts().Name!, Subjects.AlertsFired(caller.UserId), "alert"),
            _ => throw new ArgumentOutOfRangeException(nameof(channel), channel.Kind, "not a sequenced channel"),
        };

        var state = (await js.GetStreamAsync(stream, cancellationToken: ct)).Info.State;
        ulong cursor;
        byte[] answer;
        if (since is not { } asked)
        {
            cursor = state.LastSeq;
            answer = StreamFrames.Subscribed(channel.Name, cursor, id);
        }
        else if (asked > state.LastSeq || (asked + 1 < state.FirstSeq && state.Messages > 0))
        {
            cursor = state.LastSeq;
            answer = StreamFrames.Resync(channel.Name, cursor, asked > state.LastSeq
                ? $"since {asked} is newer than anything this stream holds ({state.LastSeq}); re-read over REST."
                : $"since {asked} is older than what the server still holds (from {state.FirstSeq}); re-read over REST.", id);
        }
        else
        {
            cursor = asked;
            answer = StreamFrames.Subscribed(channel.Name, cursor, id);
        }

        var subscription = new Subscription(js, stream, subject, channel.Name, type, connection, logger);
        var consumer = await subscription.CreateConsumerAsync(cursor + 1, ct);
        connection.Send(answer);
        var stop = CancellationTokenSource.CreateLinkedTokenSource(connection.Closing);
        var pump = Task.Run(() => subscription.PumpAsync(consumer, cursor + 1, stop.Token));
        return new Running(stop, pump);
    }

    /// <summary>
    /// A consumer of one subject from a stream sequence on. Not the client library's ordered consumer: that one sends
    /// the filter as <c>filter_subjects</c>, which nats-server 2.9 ignores (it delivered other subjects); a named
    /// consumer with the singular <c>filter_subject</c> is honoured. Like an ordered consumer it is unacknowledged, in
    /// memory, of one replica, and re-created from the next sequence whenever a delivery is missing or it fails.
    /// </summary>
    private sealed class Subscription(INatsJSContext js, string stream, string subject, string channel, string type, OutboundFrames connection, ILogger logger)
    {
        public async Task<INatsJSConsumer> CreateConsumerAsync(ulong from, CancellationToken ct) =>
            await js.CreateOrUpdateConsumerAsync(stream, new ConsumerConfig($"stream-{Guid.NewGuid():N}")
            {
                FilterSubject = subject,
                DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence,
                OptStartSeq = from,
                AckPolicy = ConsumerConfigAckPolicy.None,
                MemStorage = true,
                NumReplicas = 1,
                // Removed by the server if the gateway dies without deleting it.
                InactiveThreshold = TimeSpan.FromMinutes(1),
            }, ct);

        public async Task PumpAsync(INatsJSConsumer consumer, ulong next, CancellationToken ct)
        {
            try
            {
                while (true)
                {
                    try
                    {
                        next = await DeliverAsync(consumer, next, ct);
                    }
                    catch (Exception ex) when (!ct.IsCancellationRequested)
                    {
                        logger.LogInformation(ex, "The {Channel} consumer of a stream connection failed; re-creating it from {Next}", channel, next);
                        await Task.Delay(TimeSpan.FromSeconds(1), ct);
                    }
                    finally
                    {
                        await DeleteAsync(consumer);
                    }
                    if (ct.IsCancellationRequested || connection.IsClosing)
                    {
                        return;
                    }
                    consumer = await CreateConsumerAsync(next, ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }
        }

        /// <summary>Delivers until a delivery is missing (returns the stream sequence to resume from) or the connection closes.</summary>
        private async Task<ulong> DeliverAsync(INatsJSConsumer consumer, ulong next, CancellationToken ct)
        {
            ulong delivered = 0;
            await foreach (var message in consumer.ConsumeAsync<byte[]>(cancellationToken: ct))
            {
                if (message.Metadata is not { } metadata)
                {
                    continue;
                }
                if (metadata.Sequence.Consumer != ++delivered)
                {
                    return next; // a pull response was lost on the way: start again after what was passed on
                }
                next = metadata.Sequence.Stream + 1;
                // The services write the contracts' wire JSON (the REST shape); it is passed on as it is.
                if (message.Data is { Length: > 0 } data && !connection.Send(StreamFrames.Data(type, channel, metadata.Sequence.Stream, data)))
                {
                    return next;
                }
            }
            return next;
        }

        private async Task DeleteAsync(INatsJSConsumer consumer)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await js.DeleteConsumerAsync(stream, consumer.Info.Name, timeout.Token);
            }
            catch (Exception ex)
            {
                logger.LogDebug(ex, "Deleting a stream consumer failed; the server removes it after its inactive threshold");
            }
        }
    }

    private sealed class Running(CancellationTokenSource stop, Task pump) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await pump;
            stop.Dispose();
        }
    }
}
