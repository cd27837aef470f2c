using System.Text.Json;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.PaperEngine.Engine;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.PaperEngine.Messaging;

/// <summary>
/// Live trades from MARKET_RAW (<c>market.raw.&gt;</c>, never <c>market.history</c>: imports must not fill orders),
/// in stream order, into the engine loop.
/// <para>
/// An ordered, ephemeral, ack-less consumer, not a durable one: the engine's position in the stream is part of its
/// state (each book's watermark is written in the same PostgreSQL transaction as the fills it caused), so an
/// acknowledgement kept by the server could never be atomic with that state and would add nothing. One pull consumer
/// without acks delivers strictly in stream order (so per symbol in order); when it fails (NATS restart, consumer
/// gone) this loop recreates it from the last sequence it delivered — what NATS.Net's ordered consumer does, done
/// here because that one sends <c>filter_subjects</c>, which NATS 2.9 ignores. On start it resumes after the oldest
/// stored watermark; books skip prints they already processed by trade id.
/// </para>
/// </summary>
public sealed class TradeFeed(INatsJSContext js, ExchangeLoop loop, TimeProvider time, ILogger<TradeFeed> logger) : BackgroundService
{
    /// <summary>How often the server proves the consumer is alive; two missed beats mean it is gone.</summary>
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(5);

    /// <summary>True once the consumer exists (readiness).</summary>
    public bool Ready { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var resumeAfter = loop.ResumeAfterSequence;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // The ingestor owns MARKET_RAW; create it with the same config when we start first (idempotent).
                await StreamSetup.EnsureAsync(js, Streams.MarketRaw(), logger, stoppingToken);
                // No filter subject: NATS 2.9.10 refuses NATS.Net's create request with the wildcard filter
                // ("did not match filtered subject"), so market.history/market.gap messages are skipped below instead.
                var config = new ConsumerConfig
                {
                    AckPolicy = ConsumerConfigAckPolicy.None,
                    InactiveThreshold = TimeSpan.FromMinutes(1),
                    MemStorage = true,
                };
                if (resumeAfter is { } after)
                {
                    config.DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence;
                    config.OptStartSeq = after + 1;
                }
                else
                {
                    // First start: the last few minutes give every active market a last price (orders are priced
                    // by the stream's last trade anyway, see LastTrades); "last per subject" would need a filter.
                    config.DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartTime;
                    config.OptStartTime = time.GetUtcNow() - TimeSpan.FromMinutes(5);
                }

                var consumer = await js.CreateOrUpdateConsumerAsync(Streams.MarketRaw().Name!, config, stoppingToken);
                logger.LogInformation("Matching live trades from MARKET_RAW ({Policy} {Sequence} {Time})", config.DeliverPolicy, config.OptStartSeq, config.OptStartTime);
                Ready = true;

                // NATS.Net's plain consume treats a vanished consumer as recoverable and keeps pulling from it forever.
                // This consumer lives in the server's memory, so a NATS restart deletes it: the server's "409 Server
                // Shutdown" (graceful stop) or missing idle heartbeats (crash) end this consume, and the loop creates a
                // new consumer after the last sequence delivered.
                using var lost = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var consumeOpts = new NatsJSConsumeOpts
                {
                    MaxMsgs = 1000, // NATS.Net's default; it must be given once any other option is
                    IdleHeartbeat = HeartbeatInterval,
                    Expires = HeartbeatInterval * 6,
                    NotificationHandler = (notification, _) =>
                    {
                        if (notification is NatsJSTimeoutNotification or NatsJSProtocolNotification { HeaderCode: 404 or 409 or 503 })
                        {
                            logger.LogWarning("The trade consumer is gone ({Notification}); creating it again after stream sequence {Sequence}", notification.Name, resumeAfter);
                            lost.Cancel();
                        }

                        return Task.CompletedTask;
                    },
                };
                try
                {
                    await foreach (var msg in consumer.ConsumeAsync<byte[]>(opts: consumeOpts, cancellationToken: lost.Token))
                    {
                        if (msg.Metadata is { } meta)
                        {
                            resumeAfter = meta.Sequence.Stream;
                            await ApplyAsync(msg, meta.Sequence.Stream, stoppingToken);
                        }
                    }
                }
                catch (OperationCanceledException) when (lost.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
                {
                    Ready = false;
                    await ForgetAsync(consumer.Info.Name, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Ready = false;
                logger.LogWarning(ex, "The trade feed failed; resubscribing after stream sequence {Sequence}", resumeAfter);
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
            }
        }
    }

    /// <summary>
    /// One MARKET_RAW message into the engine loop: its one trade, or its batch of trades of that market (in trade-id
    /// order, <see cref="TradeMessages"/>), as one unit under the message's stream sequence. History imports, gap
    /// notices and unreadable messages never fill orders.
    /// </summary>
    private async Task ApplyAsync(INatsJSMsg<byte[]> msg, ulong sequence, CancellationToken ct)
    {
        if (msg.Data is null || !msg.Subject.StartsWith("market.raw.", StringComparison.Ordinal))
        {
            return;
        }

        if (!loop.Matches(msg.Subject))
        {
            // Decided by subject, before deserializing: most prints of most markets can fill nothing, and parsing every
            // one of them was most of the engine's CPU under load. See WantedMarkets for why no fill is lost.
            loop.Skip(msg.Subject, msg.Data, sequence);
            return;
        }

        Trade[] trades;
        try
        {
            trades = TradeMessages.Decode(msg.Data);
        }
        catch (JsonException ex)
        {
            logger.LogWarning(ex, "Skipping malformed trade message at {Subject} sequence {Sequence}", msg.Subject, sequence);
            return;
        }

        using var activity = NatsTracing.StartProcess(msg.Subject, msg.Headers);
        await loop.EnqueueTradesAsync(msg.Subject, trades, sequence, ct);
    }

    /// <summary>Deletes an abandoned consumer if the server still has it; an inactive one would expire by itself anyway.</summary>
    private async Task ForgetAsync(string name, CancellationToken ct)
    {
        try
        {
            await js.DeleteConsumerAsync(Streams.MarketRaw().Name!, name, ct);
        }
        catch (Exception ex) when (ex is NatsJSApiException or NatsJSException or NATS.Client.Core.NatsException or TimeoutException)
        {
            logger.LogDebug(ex, "Abandoned trade consumer {Name} not deleted", name);
        }
    }
}
