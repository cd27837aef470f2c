using System.Text.Json;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.Analytics.Equity;

/// <summary>
/// Keeps <see cref="Marks"/> at the latest closed 1m kline close of each market (<c>market.kline.*.1m.*.*</c>). Every
/// replica needs every mark (its users hold positions in any market), so each reads them with a consumer of its own:
/// the stored marks first, then the stream's last kline of each market and everything after it.
/// </summary>
public sealed class MarkConsumer(INatsJSContext js, Marks marks, EquityStore store, ILogger<MarkConsumer> logger) : BackgroundService
{
    /// <summary>
    /// This process's own consumer: without acks, in memory, removed by the server a minute after the process is gone.
    /// Named (not NATS.Net's ordered consumer) because NATS 2.9 applies only a consumer's single filter subject.
    /// </summary>
    private readonly string _name = $"analytics-marks-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var loaded = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!loaded)
                {
                    await store.LoadMarksAsync(marks, stoppingToken);
                    loaded = true;
                }
                var stream = Streams.MarketKline();
                await StreamSetup.EnsureAsync(js, stream, logger, stoppingToken);
                var consumer = await js.CreateOrUpdateConsumerAsync(stream.Name!, new ConsumerConfig(_name)
                {
                    DurableName = _name,
                    FilterSubject = Subjects.MarketKlineInterval("1m"),
                    DeliverPolicy = ConsumerConfigDeliverPolicy.LastPerSubject,
                    AckPolicy = ConsumerConfigAckPolicy.None,
                    MemStorage = true,
                    InactiveThreshold = TimeSpan.FromMinutes(1),
                }, stoppingToken);
                // In the server's memory, so gone after a NATS restart: missing heartbeats or the server's 404/409/503
                // end this read, and the loop creates it again (from each market's last kline: marks only move forward).
                using var lost = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var options = new NatsJSConsumeOpts
                {
                    MaxMsgs = 1000,
                    IdleHeartbeat = TimeSpan.FromSeconds(5),
                    Expires = TimeSpan.FromSeconds(30),
                    NotificationHandler = (notification, _) =>
                    {
                        if (notification is NatsJSTimeoutNotification or NatsJSProtocolNotification { HeaderCode: 404 or 409 or 503 })
                        {
                            lost.Cancel();
                        }
                        return Task.CompletedTask;
                    },
                };
                await foreach (var message in consumer.ConsumeAsync<byte[]>(opts: options, cancellationToken: lost.Token))
                {
                    try
                    {
                        if (message.Data is { Length: > 0 } data
                            && JsonSerializer.Deserialize(data, ContractsJsonContext.Wire.Kline) is { Closed: true } kline
                            && kline.Close > 0m)
                        {
                            marks.Set(kline.Exchange, kline.Symbol, kline.OpenTime, kline.Close);
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
            catch (OperationCanceledException)
            {
                logger.LogWarning("Mark consumer {Name} is gone; creating it again", _name);
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
