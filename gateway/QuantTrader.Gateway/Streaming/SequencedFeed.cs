using System.Text.Json;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Identity;

namespace QuantTrader.Gateway.Streaming;

/// <summary>
/// A user's <c>orders</c>, <c>fills</c> or <c>alerts</c>: a JetStream ordered consumer of its own, filtered to the
/// user's one subject (<c>trading.fill.{userId:N}.{partition}</c>, <c>trading.order.…</c>, <c>alerts.fired.{userId:N}</c>;
/// one filter subject, which NATS 2.9 honours). The stream sequence of each message is the channel's <c>seq</c>: it only
/// grows, and a client that reconnects with <c>since</c> is replayed everything of its own after it. Nothing about the
/// cursor lives in the gateway, so any replica can resume any client.
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
        if (since is not { } asked)
        {
            cursor = state.LastSeq;
            connection.Send(StreamFrames.Subscribed(channel.Name, cursor, id));
        }
        else if (asked > state.LastSeq || (asked + 1 < state.FirstSeq && state.Messages > 0))
        {
            cursor = state.LastSeq;
            var reason = asked > state.LastSeq
                ? $"since {asked} is newer than anything this stream holds ({state.LastSeq}); re-read over REST."
                : $"since {asked} is older than what the server still holds (from {state.FirstSeq}); re-read over REST.";
            connection.Send(StreamFrames.Resync(channel.Name, cursor, reason, id));
        }
        else
        {
            cursor = asked;
            connection.Send(StreamFrames.Subscribed(channel.Name, cursor, id));
        }

        var consumer = await js.CreateOrderedConsumerAsync(stream, new NatsJSOrderedConsumerOpts
        {
            FilterSubjects = [subject],
            DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence,
            OptStartSeq = cursor + 1,
        }, ct);
        var stop = CancellationTokenSource.CreateLinkedTokenSource(connection.Closing);
        var pump = Task.Run(() => PumpAsync(consumer, channel.Name, type, connection, logger, stop.Token));
        return new Running(stop, pump);
    }

    private static async Task PumpAsync(INatsJSConsumer consumer, string channel, string type, OutboundFrames connection, ILogger logger, CancellationToken ct)
    {
        try
        {
            await foreach (var message in consumer.ConsumeAsync<byte[]>(cancellationToken: ct))
            {
                if (message.Data is not { Length: > 0 } data || message.Metadata is not { } metadata)
                {
                    continue;
                }
                // The services write the contracts' wire JSON (the REST shape); it is passed on as it is.
                if (!connection.Send(StreamFrames.Data(type, channel, metadata.Sequence.Stream, data)))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "The {Channel} consumer of a stream connection failed; closing it so the client resumes with since", channel);
            connection.Send(StreamFrames.Error("internal-error", $"The {channel} feed failed; reconnect and resume with since."));
            connection.RequestClose(System.Net.WebSockets.WebSocketCloseStatus.InternalServerError, "internal error", drain: true);
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
