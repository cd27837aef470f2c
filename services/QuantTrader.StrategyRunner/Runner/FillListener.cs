using System.Text.Json;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.StrategyRunner.Runner;

/// <summary>
/// Fills of strategy orders, from the TRADING stream (<c>trading.fill.{userId}</c>) through one durable consumer,
/// so fills that happen while the runner is down still reach the strategy's position afterwards. Fills without a
/// strategy id (REST orders) are acknowledged and ignored.
/// </summary>
public sealed class FillListener(INatsJSContext jetStream, StrategySupervisor supervisor, ILogger<FillListener> logger) : BackgroundService
{
    public const string ConsumerName = "strategy-runner-fills";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await supervisor.Ready.WaitAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var consumer = await jetStream.CreateOrUpdateConsumerAsync(Streams.Trading().Name!, new ConsumerConfig(ConsumerName)
                {
                    FilterSubject = "trading.fill.>",
                    DeliverPolicy = ConsumerConfigDeliverPolicy.New,
                    AckPolicy = ConsumerConfigAckPolicy.Explicit,
                    AckWait = TimeSpan.FromSeconds(30),
                }, stoppingToken);
                await foreach (var message in consumer.ConsumeAsync<byte[]>(cancellationToken: stoppingToken))
                {
                    using var activity = NatsTracing.StartProcess(message.Subject, message.Headers);
                    Contracts.Trading.FillEvent? fill = null;
                    try
                    {
                        fill = message.Data is null ? null : JsonSerializer.Deserialize(message.Data, ContractsJsonContext.Wire.FillEvent);
                    }
                    catch (JsonException ex)
                    {
                        logger.LogWarning(ex, "Skipping an unreadable fill on {Subject}", message.Subject);
                    }
                    if (fill?.StrategyId is not null)
                    {
                        await supervisor.DeliverFillAsync(fill, stoppingToken);
                    }
                    await message.AckAsync(cancellationToken: stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Fill consumer failed; retrying");
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }
}
