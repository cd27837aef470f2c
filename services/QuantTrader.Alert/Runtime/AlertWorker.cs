using System.Text.Json;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Messaging;
using KlineRecord = QuantTrader.Contracts.MarketData.Kline;

namespace QuantTrader.Alert.Runtime;

/// <summary>
/// Feeds the engine: every live trade (<c>market.raw.&gt;</c>; imported history is on <c>market.history.&gt;</c> and never
/// read here, so it never fires) and every closed live kline (<c>market.kline.&gt;</c>, skipping klines marked as built
/// from history). Both consumers start at new messages: an alert is about the market now, so trades from while
/// the service was down are not evaluated late (docs/alerts.md).
/// </summary>
public sealed class AlertWorker(INatsJSContext js, AlertRuntime runtime, ILogger<AlertWorker> logger) : BackgroundService
{
    private const string SourceHeader = "QuantTrader-Source";

    public bool Consuming { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                foreach (var stream in new[] { Streams.MarketRaw(), Streams.MarketKline(), Streams.Alerts(), Streams.DeadLetters() })
                {
                    await StreamSetup.EnsureAsync(js, stream, logger, stoppingToken);
                }

                await runtime.LoadAsync(stoppingToken);
                break;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(ex, "Starting the alert engine failed; retrying in 2 s");
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }

        // The subject is also checked per message below: a server that ignores the filter (NATS 2.9 with the
        // filter_subjects field) must still never let imported history fire alerts.
        var trades = await js.CreateOrderedConsumerAsync(Streams.MarketRaw().Name!, new NatsJSOrderedConsumerOpts
        {
            FilterSubjects = [Subjects.MarketRawAll],
            DeliverPolicy = ConsumerConfigDeliverPolicy.New,
        }, stoppingToken);
        var klines = await js.CreateOrderedConsumerAsync(Streams.MarketKline().Name!, new NatsJSOrderedConsumerOpts
        {
            FilterSubjects = [Subjects.MarketKlineAll],
            DeliverPolicy = ConsumerConfigDeliverPolicy.New,
        }, stoppingToken);

        // An ordered consumer exists on the server once created, so from here on no new message is missed.
        Consuming = true;
        logger.LogInformation("Alert engine consuming live trades and closed klines");
        await Task.WhenAll(ConsumeTradesAsync(trades, stoppingToken), ConsumeKlinesAsync(klines, stoppingToken));
    }

    private async Task ConsumeTradesAsync(INatsJSConsumer consumer, CancellationToken ct)
    {
        await foreach (var msg in consumer.ConsumeAsync<byte[]>(cancellationToken: ct))
        {
            if (msg.Data is not { Length: > 0 } data || !msg.Subject.StartsWith("market.raw.", StringComparison.Ordinal))
            {
                continue;
            }

            using var activity = NatsTracing.StartProcessIfSampled(msg.Subject, msg.Headers);
            try
            {
                // One trade, or several of one market in id order (TradeMessages): each one is a price the rules see.
                foreach (var trade in TradeMessages.Decode(data))
                {
                    if (trade.Price > 0)
                    {
                        await runtime.OnTradeAsync(trade.Exchange, trade.Symbol, trade.Price, trade.Time, ct);
                    }
                }
            }
            catch (JsonException ex)
            {
                logger.LogWarning(ex, "Ignored a message on {Subject} that is not a trade", msg.Subject);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                logger.LogError(ex, "Evaluating the alerts of a trade on {Subject} failed", msg.Subject);
            }
        }
    }

    private async Task ConsumeKlinesAsync(INatsJSConsumer consumer, CancellationToken ct)
    {
        await foreach (var msg in consumer.ConsumeAsync<byte[]>(cancellationToken: ct))
        {
            if (msg.Data is not { Length: > 0 } data || !msg.Subject.StartsWith("market.kline.", StringComparison.Ordinal) || (msg.Headers?.TryGetValue(SourceHeader, out var source) == true && source == "history"))
            {
                continue;
            }

            using var activity = NatsTracing.StartProcessIfSampled(msg.Subject, msg.Headers);
            try
            {
                var kline = JsonSerializer.Deserialize(data, ContractsJsonContext.Wire.Kline);
                if (kline is { Closed: true })
                {
                    await runtime.OnClosedKlineAsync(kline, ct);
                }
            }
            catch (JsonException ex)
            {
                logger.LogWarning(ex, "Ignored a message on {Subject} that is not a kline", msg.Subject);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                logger.LogError(ex, "Evaluating the indicator alerts of a kline on {Subject} failed", msg.Subject);
            }
        }
    }
}
