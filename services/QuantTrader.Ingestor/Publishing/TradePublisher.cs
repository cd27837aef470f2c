using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.Ingestor.Publishing;

/// <summary>
/// Publishes trades to JetStream without waiting for one acknowledgement per message: the trades waiting together
/// become messages of one market each (<see cref="TradeMessages.Group"/>: one trade per message when the feed is
/// quiet, up to <see cref="TradeMessages.MaxPerMessage"/> under load, since every message costs every consumer the
/// same whatever it carries), sent on one connection (so the server receives them in order), each with a reply
/// subject of one shared <see cref="AckInbox"/>; the acks are collected afterwards. A message whose ack failed or did
/// not come is published again, one at a time, until the server has it: the <c>Nats-Msg-Id</c>
/// (<see cref="TradeMessages.MessageId"/>) makes a re-send that did reach the server a no-op, so retrying never
/// doubles a trade.
/// </summary>
public sealed class TradePublisher(INatsJSContext js, ILogger<TradePublisher> logger, TimeProvider time, int maxPerMessage)
{
    private readonly int _maxPerMessage = maxPerMessage;

    /// <summary>How long a batch waits for its acks before the unanswered trades are re-sent one by one.</summary>
    private static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(10);

    private const string MsgIdHeader = "Nats-Msg-Id";

    private readonly NatsJSContext _js = (NatsJSContext)js;
    private readonly SemaphoreSlim _acksLock = new(1, 1);
    private AckInbox? _acks;

    /// <summary>Live trades on <c>market.raw.{exchange}.{SYMBOL}</c>, id = <see cref="TradeMessages.MessageId"/>.</summary>
    public Task PublishLiveAsync(IReadOnlyList<Trade> trades, CancellationToken ct) =>
        PublishAsync(trades, static t => Subjects.MarketRaw(t.Exchange, t.Symbol), static m => TradeMessages.MessageId(m), patience: null, ct);

    /// <summary>The prefix of every history message id: a history id never equals a live one, whatever stream holds them.</summary>
    public const string HistoryIdPrefix = "history:";

    /// <summary>
    /// Imported trades on <c>market.history.{exchange}.{SYMBOL}</c> (MARKET_HISTORY), ids prefixed with
    /// <see cref="HistoryIdPrefix"/>. A message the stream will not store within <paramref name="patience"/> (full:
    /// it refuses rather than evicts) fails the call, naming the stream's answer, instead of retrying forever.
    /// </summary>
    public Task PublishHistoryAsync(IReadOnlyList<Trade> trades, TimeSpan patience, CancellationToken ct) =>
        PublishAsync(trades, static t => Subjects.MarketHistory(t.Exchange, t.Symbol), static m => HistoryIdPrefix + TradeMessages.MessageId(m), patience, ct);

    /// <summary>
    /// The id of the newest live trade of a market in MARKET_RAW (of a batch: its last), or null when there is none —
    /// the ingestor then starts that market from the first live trade, as on a first start. Any other failure throws:
    /// the caller asks again rather than skip what the previous owner did not publish.
    /// </summary>
    public async Task<long?> LastPublishedIdAsync(string exchange, string symbol, CancellationToken ct)
    {
        try
        {
            var stream = await _js.GetStreamAsync(Streams.MarketRaw().Name!, cancellationToken: ct);
            var response = await stream.GetAsync(new StreamMsgGetRequest { LastBySubj = Subjects.MarketRaw(exchange, symbol) }, ct);
            return response.Message?.Data is { Length: > 0 } data && TradeMessages.Decode(data.Span) is { Length: > 0 } trades
                ? trades[^1].TradeId
                : null;
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            return null; // nothing of this market yet (or no stream yet)
        }
        catch (JsonException ex)
        {
            // Not a trade message (nothing the ingestor wrote): there is no last id to continue after.
            logger.LogWarning(ex, "The last message of {Exchange} {Symbol} in MARKET_RAW is not trades; starting it from its first live trade", exchange, symbol);
            return null;
        }
    }

    public async Task PublishGapAsync(MarketGap gap, CancellationToken ct)
    {
        var subject = Subjects.MarketGap(gap.Exchange, gap.Symbol);
        var headers = new NatsHeaders();
        using var activity = NatsTracing.StartPublish(subject, headers);
        var ack = await _js.PublishAsync(subject, JsonSerializer.SerializeToUtf8Bytes(gap, ContractsJsonContext.Wire.MarketGap),
            opts: new NatsJSPubOpts { MsgId = $"gap:{gap.Exchange}:{gap.Symbol}:{gap.FromTradeId}-{gap.ToTradeId}" },
            headers: headers, cancellationToken: ct);
        ack.EnsureStored();
    }

    private async Task PublishAsync(IReadOnlyList<Trade> trades, Func<Trade, string> subjectOf, Func<Trade[], string> idOf, TimeSpan? patience, CancellationToken ct)
    {
        if (trades.Count == 0)
        {
            return;
        }

        var messages = TradeMessages.Group(trades, _maxPerMessage);
        var acks = await AcksAsync(ct);
        var batch = acks.Begin(messages.Count);
        var payloads = new (string Subject, byte[] Data, NatsHeaders Headers, string Id)[messages.Count];
        try
        {
            for (var i = 0; i < messages.Count; i++)
            {
                var message = messages[i];
                var subject = subjectOf(message[0]);
                var id = idOf(message);
                var headers = new NatsHeaders { [MsgIdHeader] = id };
                using (NatsTracing.StartPublish(subject, headers))
                {
                    payloads[i] = (subject, TradeMessages.Encode(message), headers, id);
                }

                try
                {
                    // One connection: the server receives (and stores) the batch in this order.
                    await _js.Connection.PublishAsync(subject, payloads[i].Data, headers, batch.ReplyTo(i), cancellationToken: ct);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Not sent: retried below, in order with the other failures.
                    logger.LogDebug(ex, "Publish of {MessageId} failed; will retry", id);
                    batch.Complete(i, stored: false);
                }
            }

            if (!await batch.WaitAsync(AckTimeout, ct))
            {
                logger.LogWarning("Not every ack of {Count} messages ({Trades} trades) arrived within {Timeout}; re-sending the unacknowledged ones",
                    messages.Count, trades.Count, AckTimeout);
            }
        }
        finally
        {
            acks.End(batch);
        }

        for (var i = 0; i < messages.Count; i++)
        {
            if (!batch.IsStored(i))
            {
                // Failed, refused or unanswered: the Nats-Msg-Id makes a re-send of a message that did land a no-op.
                await PublishUntilAckedAsync(payloads[i].Subject, payloads[i].Data, payloads[i].Headers, payloads[i].Id, patience, ct);
            }
        }
    }

    private async ValueTask<AckInbox> AcksAsync(CancellationToken ct)
    {
        if (_acks is { } ready)
        {
            return ready;
        }

        await _acksLock.WaitAsync(ct);
        try
        {
            return _acks ??= await AckInbox.StartAsync(_js.Connection, ct);
        }
        finally
        {
            _acksLock.Release();
        }
    }

    private async Task PublishUntilAckedAsync(string subject, byte[] data, NatsHeaders headers, string messageId, TimeSpan? patience, CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        var giveUpAt = patience is { } p ? time.GetUtcNow() + p : DateTimeOffset.MaxValue;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var ack = await _js.PublishAsync(subject, data, opts: new NatsJSPubOpts { MsgId = messageId }, headers: headers, cancellationToken: ct);
                ack.EnsureStored();
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException && time.GetUtcNow() >= giveUpAt)
            {
                throw new InvalidOperationException($"JetStream did not store {messageId} on {subject} within {patience}: {ex.Message}", ex);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Never drop a trade: keep trying (the connector's channel applies back-pressure meanwhile).
                logger.LogWarning(ex, "Publishing {MessageId} to {Subject} failed (attempt {Attempt}); retrying in {Delay}",
                    messageId, subject, attempt, delay);
                await Task.Delay(delay, time, ct);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }
}
