using System.Text.Json;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.Analytics.Equity;

/// <summary>
/// Keeps <see cref="Marks"/> at the latest closed 1m kline close of each market (<c>market.kline.*.1m.*.*</c>). Every
/// replica needs every mark (its users hold positions in any market), so each reads them with an ordered consumer of
/// its own: the stored marks first, then the stream's last kline of each market and everything after it.
/// </summary>
public sealed class MarkConsumer(INatsJSContext js, Marks marks, EquityStore store, ILogger<MarkConsumer> logger) : BackgroundService
{
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
                var consumer = await js.CreateOrderedConsumerAsync(stream.Name!, new NatsJSOrderedConsumerOpts
                {
                    FilterSubjects = [Subjects.MarketKlineInterval("1m")],
                    DeliverPolicy = ConsumerConfigDeliverPolicy.LastPerSubject,
                }, stoppingToken);
                await foreach (var message in consumer.ConsumeAsync<byte[]>(cancellationToken: stoppingToken))
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
