using System.Text.Json;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.Analytics.Equity;

/// <summary>
/// Keeps <see cref="Marks"/> at the latest closed 1m kline close of each market (<c>market.kline.*.1m.*.*</c>).
/// A durable consumer without acks: after a restart it continues where it stopped, so no close is missed.
/// </summary>
public sealed class MarkConsumer(INatsJSContext js, Marks marks, ILogger<MarkConsumer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var stream = Streams.MarketKline();
                await StreamSetup.EnsureAsync(js, stream, logger, stoppingToken);
                var consumer = await js.CreateOrUpdateConsumerAsync(stream.Name!, new ConsumerConfig("analytics-marks")
                {
                    DurableName = "analytics-marks",
                    FilterSubject = Subjects.MarketKlineInterval("1m"),
                    AckPolicy = ConsumerConfigAckPolicy.None,
                    DeliverPolicy = ConsumerConfigDeliverPolicy.New,
                }, stoppingToken);
                await foreach (var message in consumer.ConsumeAsync<byte[]>(cancellationToken: stoppingToken))
                {
                    try
                    {
                        if (message.Data is { Length: > 0 } data
                            && JsonSerializer.Deserialize(data, ContractsJsonContext.Wire.Kline) is { Closed: true } kline
                            && kline.Close > 0m)
                        {
                            marks.Set(kline.Exchange, kline.Symbol, kline.Close);
                        }
                    }
                    catch (JsonException ex)
                    {
                        logger.LogDebug(ex, "Ignoring an unreadable kline on {Subject}", message.Subject);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Mark consumer stopped; restarting in 2 s");
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
