using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;
using QuantTrader.ServiceDefaults.Messaging;
using QuantTrader.ServiceDefaults.Partitioning;
using QuantTrader.StrategyRunner.Storage;

namespace QuantTrader.StrategyRunner.Runner;

/// <summary>
/// The strategy runner's work on one user partition while this replica holds its lease (docs/scaling.md): the running
/// strategies of the partition's users (<see cref="StrategyPartition"/>), the owner's end of
/// <see cref="StrategyAnnouncements"/>, and the partition's fills (<c>trading.fill.*.{p}</c>, durable consumer
/// <c>strategy-runner-fills-{p}</c>) for the strategies' positions and <c>on_fill</c>. On hand-over or SIGTERM every
/// strategy finishes its step in progress and stops; its checkpoint is already stored with it, so the next owner
/// resumes each from its last committed kline.
/// </summary>
public sealed class StrategyPartitions(
    StrategyStore store,
    INatsConnection nats,
    INatsJSContext jetStream,
    OrderGateway orders,
    QuoteBalanceSource balances,
    ILogger<StrategyPartitions> logger) : IPartitionWork
{
    /// <summary>How often an owner compares its strategies with the database (announcements make it sooner).</summary>
    public static readonly TimeSpan ReconcileInterval = TimeSpan.FromSeconds(15);

    public static string FillConsumerName(int partition) => $"strategy-runner-fills-{partition}";

    private readonly RunnerServices _services = new(store, jetStream, orders, balances, Strategies.Sandbox.StrategyEngine.Shared,
        StrategyPartition.SandboxOptions, logger);

    public async Task RunAsync(PartitionLease lease)
    {
        var stopping = lease.Stopping;
        // The kline service owns MARKET_KLINE and the paper engine TRADING, but start order varies: creating them
        // with the same config is idempotent.
        await StreamSetup.EnsureAsync(jetStream, Streams.MarketKline(), logger, stopping);
        await StreamSetup.EnsureAsync(jetStream, Streams.Trading(), logger, stopping);

        var partition = new StrategyPartition(lease.Partition, _services, logger);
        // Listening before reading the database: a change made after the read is announced, one made before is read.
        var subscription = await nats.SubscribeCoreAsync<string>(StrategyAnnouncements.Subject(lease.Partition), cancellationToken: stopping);
        var announcements = Task.Run(() => AnswerAsync(subscription, partition, stopping));
        var fills = Task.Run(() => ConsumeFillsAsync(partition, lease));
        try
        {
            var note = "started again after a runner restart or a hand-over of its partition";
            while (!stopping.IsCancellationRequested)
            {
                try
                {
                    var waiting = await partition.ReconcileAllAsync(note, stopping);
                    if (waiting > 0)
                    {
                        logger.LogWarning("Partition {Partition}: {Count} running strategies not started yet (database or NATS unavailable)", lease.Partition, waiting);
                    }
                    else
                    {
                        // Started once; a later round only catches up with changes whose announcement was lost.
                        note = "started again: its owner found it stored as running";
                    }
                }
                catch (Exception ex) when (StrategyPartition.IsTransient(ex) && !stopping.IsCancellationRequested)
                {
                    logger.LogWarning(ex, "Partition {Partition}: cannot read its strategies (database unavailable); retrying", lease.Partition);
                }
                await Task.Delay(ReconcileInterval, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        finally
        {
            await subscription.DisposeAsync();
            await Task.WhenAll(Quietly(announcements), Quietly(fills));
            await partition.StopAllAsync();
            logger.LogInformation("Partition {Partition}: strategies stopped for {Reason}", lease.Partition, lease.IsHeld ? "a hand-over or shutdown" : "a lost lease");
        }
    }

    private async Task AnswerAsync(INatsSub<string> subscription, StrategyPartition partition, CancellationToken stopping)
    {
        await foreach (var message in subscription.Msgs.ReadAllAsync(stopping))
        {
            if (!Guid.TryParse(message.Data, out var strategyId))
            {
                continue;
            }
            try
            {
                await partition.ReconcileAsync(strategyId, stopping);
                await message.ReplyAsync("ok", cancellationToken: stopping);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // No answer: the API says the change waits for the next reconcile, which tries again.
                logger.LogWarning(ex, "Partition {Partition}: could not act on strategy {StrategyId} yet", partition.Partition, strategyId);
            }
        }
    }

    private async Task ConsumeFillsAsync(StrategyPartition partition, PartitionLease lease)
    {
        while (!lease.Stopping.IsCancellationRequested)
        {
            try
            {
                await DurablePartitionConsumer.RunAsync(jetStream, Streams.Trading().Name!, new ConsumerConfig(FillConsumerName(lease.Partition))
                {
                    DurableName = FillConsumerName(lease.Partition),
                    FilterSubject = Subjects.TradingFillPartition(lease.Partition),
                    // Fills that happen while no replica owns the partition still reach the strategies afterwards.
                    DeliverPolicy = ConsumerConfigDeliverPolicy.New,
                    AckPolicy = ConsumerConfigAckPolicy.Explicit,
                    AckWait = TimeSpan.FromSeconds(30),
                }, lease, message => DeliverFillAsync(partition, message), logger);
            }
            catch (OperationCanceledException) when (lease.Stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Unacknowledged fills come again; applying one twice changes nothing (by fill id).
                logger.LogError(ex, "Partition {Partition}: fill consumer failed; retrying", lease.Partition);
                await Task.Delay(TimeSpan.FromSeconds(2), lease.Stopping);
            }
        }
    }

    private async Task DeliverFillAsync(StrategyPartition partition, INatsJSMsg<byte[]> message)
    {
        using var activity = NatsTracing.StartProcess(message.Subject, message.Headers);
        FillEvent? fill = null;
        try
        {
            fill = message.Data is null ? null : JsonSerializer.Deserialize(message.Data, ContractsJsonContext.Wire.FillEvent);
        }
        catch (JsonException ex)
        {
            logger.LogWarning(ex, "Skipping an unreadable fill on {Subject}", message.Subject);
        }
        // Fills without a strategy id (REST orders) are acknowledged and ignored.
        if (fill?.StrategyId is not null)
        {
            await partition.DeliverFillAsync(fill, CancellationToken.None);
        }
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (OperationCanceledException)
        {
        }
    }
}
