using System.Text.Json;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Npgsql;
using Polly;
using Polly.Retry;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;
using QuantTrader.ServiceDefaults.Messaging;
using QuantTrader.ServiceDefaults.Partitioning;

namespace QuantTrader.Analytics.Equity;

/// <summary>
/// The accounts of one user partition, while this replica owns it (docs/analytics.md, "Replicas"): rebuilds the
/// partition's users from analytics' own ledger, then applies every fill of the partition
/// (<c>trading.fill.*.{p}</c>, durable consumer <c>analytics-fills-{p}</c>) to its user's account and records it with
/// the equity right after it, acking only after that commit. A fill handled but not acked before a crash or hand-over
/// comes again and is recognised by its id (it is in the ledger the next owner replays), so it is never counted twice.
/// </summary>
public sealed class AccountPartitions(
    INatsJSContext js, AccountBook book, EquityStore store, ILogger<AccountPartitions> logger) : IPartitionWork
{
    public static string ConsumerName(int partition) => $"analytics-fills-{partition}";

    private readonly ResiliencePipeline _retry = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>().Handle<TimeoutException>(),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            MaxDelay = TimeSpan.FromSeconds(10),
            OnRetry = args =>
            {
                logger.LogWarning(args.Outcome.Exception, "PostgreSQL failed (attempt {Attempt}); retrying in {Delay}", args.AttemptNumber + 1, args.RetryDelay);
                return ValueTask.CompletedTask;
            },
        })
        .Build();

    public async Task RunAsync(PartitionLease lease)
    {
        var partition = lease.Partition;
        try
        {
            var ledger = await _retry.ExecuteAsync(async ct => await store.LedgerAsync(partition, ct), lease.Stopping);
            book.Adopt(partition, ledger);
            logger.LogInformation("Partition {Partition}: rebuilt its accounts from {Fills} recorded fills", partition, ledger.Count);

            var stream = Streams.Trading();
            await StreamSetup.EnsureAsync(js, stream, logger, lease.Stopping);
            await DurablePartitionConsumer.RunAsync(js, stream.Name!, new ConsumerConfig(ConsumerName(partition))
            {
                DurableName = ConsumerName(partition),
                FilterSubject = Subjects.TradingFillPartition(partition),
                AckPolicy = ConsumerConfigAckPolicy.Explicit,
                AckWait = TimeSpan.FromSeconds(30),
                // A new partition consumer starts at the stream's beginning: fills already in the ledger are recognised.
                DeliverPolicy = ConsumerConfigDeliverPolicy.All,
                MaxAckPending = 1000,
            }, lease, message => ApplyAsync(message, lease), logger);
        }
        catch (OperationCanceledException) when (lease.Stopping.IsCancellationRequested)
        {
        }
        finally
        {
            // Whoever owns the partition next rebuilds these users from the ledger; keeping them here would write
            // snapshots of users this replica no longer follows.
            book.Forget(partition);
        }
    }

    private async Task ApplyAsync(INatsJSMsg<byte[]> message, PartitionLease lease)
    {
        using var activity = NatsTracing.StartProcess(message.Subject, message.Headers);
        FillEvent? fill = null;
        try
        {
            fill = message.Data is { Length: > 0 } data ? JsonSerializer.Deserialize(data, ContractsJsonContext.Wire.FillEvent) : null;
        }
        catch (JsonException ex)
        {
            logger.LogWarning(ex, "Ignoring a fill that is not valid JSON on {Subject} (persistence dead-letters it)", message.Subject);
        }
        if (fill is null || fill.Quantity <= 0m || fill.Price <= 0m || fill.UserId == Guid.Empty || Partitions.OfUser(fill.UserId) != lease.Partition)
        {
            return;
        }
        fill = fill with { Time = fill.Time.ToUniversalTime() };

        if (book.Apply(fill) is { } applied)
        {
            // Not the lease's token: a fill applied in memory is recorded before it is acked, also while handing over.
            await _retry.ExecuteAsync(async token => await store.RecordFillAsync(fill, applied, token), CancellationToken.None);
            logger.LogDebug("Fill {FillId} of user {UserId}: realized {Pnl}, equity {Equity}", fill.Id, fill.UserId, applied.RealizedPnl, applied.EquityAfter);
        }
    }
}
