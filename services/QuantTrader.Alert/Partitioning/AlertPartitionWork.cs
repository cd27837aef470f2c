using System.Collections.Concurrent;
using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using QuantTrader.Alert.Rules;
using QuantTrader.Alert.Runtime;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Messaging;
using QuantTrader.ServiceDefaults.Partitioning;

namespace QuantTrader.Alert.Partitioning;

/// <summary>
/// The alert service's work on one market partition while this replica holds its lease (docs/alerts.md § Replicas):
/// <list type="number">
/// <item>listen for the partition's rule changes (before loading, so none stored meanwhile is missed);</item>
/// <item>claim the partition's checkpoint with the lease's fence and recall the engine memory saved with it;</item>
/// <item>load the partition's active rules, publish the firings an earlier owner recorded but did not publish;</item>
/// <item>consume the partition's trades and closed klines from the checkpoint, one step at a time, applying rule
/// changes between steps and saving the checkpoint every <see cref="CheckpointInterval"/>;</item>
/// <item>on hand-over or SIGTERM: stop taking messages, finish the step in flight (its firings recorded and
/// published), save the checkpoint while the lease is held, delete the consumers and return.</item>
/// </list>
/// A step replayed by the next owner (everything after the checkpoint) produces the same firing ids and is recognised.
/// </summary>
public sealed class AlertPartitionWork(
    AlertStreams streams,
    RuleStore rules,
    PartitionCheckpoints checkpoints,
    RuleAnnouncements announcements,
    FiringRecorder recorder,
    StoredKlines klines,
    INatsJSContext js,
    ILogger<AlertPartitionWork> logger) : IPartitionWork
{
    public static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long a stopping partition lets its step in flight finish (a database outage could hold it forever).</summary>
    public static readonly TimeSpan DrainPatience = TimeSpan.FromSeconds(10);

    private const string SourceHeader = "QuantTrader-Source";

    private readonly ConcurrentDictionary<int, bool> _evaluating = new();

    /// <summary>True once the partition's rules are loaded and its consumers exist.</summary>
    public bool IsEvaluating(int partition) => _evaluating.ContainsKey(partition);

    public async Task RunAsync(PartitionLease lease)
    {
        var p = lease.Partition;
        var stopping = lease.Stopping;
        // Steps in flight finish even though the lease is stopping; only a drain that takes too long cuts them off.
        using var finishing = new CancellationTokenSource();
        using var drain = stopping.Register(() => finishing.CancelAfter(DrainPatience));
        using var partition = new AlertPartition(p, recorder, klines);

        await streams.EnsureAsync(stopping);
        await using var changes = await announcements.ListenAsync(p, stopping);
        var checkpoint = await checkpoints.ClaimAsync(p, lease.Fence,
            await streams.LastSequenceAsync(Streams.MarketRaw().Name!, stopping),
            await streams.LastSequenceAsync(Streams.MarketKline().Name!, stopping), stopping);
        partition.Resume(checkpoint);
        foreach (var rule in await rules.LoadActiveAsync(p, stopping))
        {
            await partition.AddAsync(rule, stopping);
        }

        partition.Started();
        await recorder.PublishUnpublishedAsync(p, stopping);

        await using var trades = await PartitionFeed.OpenAsync(js, Streams.MarketRaw().Name!, Subjects.MarketRawPartition(p), $"alert-trades-p{p}", partition.TradesSeq, stopping);
        await using var closedKlines = await PartitionFeed.OpenAsync(js, Streams.MarketKline().Name!, Subjects.MarketKlinePartition(p), $"alert-klines-p{p}", partition.KlinesSeq, stopping);
        logger.LogInformation("Alert partition {Partition}: {Rules} rules, evaluating from MARKET_RAW {TradesSeq} and MARKET_KLINE {KlinesSeq} (fence {Fence})",
            p, partition.RuleCount, partition.TradesSeq, partition.KlinesSeq, lease.Fence);
        _evaluating[p] = true;

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        try
        {
            await Task.WhenAll(
                UntilFirstFailure(trades.ConsumeAsync((msg, seq) => OnTradesAsync(partition, msg, seq, finishing.Token), stop.Token), stop),
                UntilFirstFailure(closedKlines.ConsumeAsync((msg, seq) => OnKlineAsync(partition, msg, seq, finishing.Token), stop.Token), stop),
                UntilFirstFailure(ApplyChangesAsync(partition, changes, finishing.Token, stop.Token), stop),
                UntilFirstFailure(CheckpointEveryIntervalAsync(partition, lease, stop.Token), stop));
        }
        finally
        {
            _evaluating.TryRemove(p, out _);
            await SaveAsync(partition, lease, CancellationToken.None);
            logger.LogInformation("Alert partition {Partition} stopped at MARKET_RAW {TradesSeq} and MARKET_KLINE {KlinesSeq}{Note}",
                p, partition.TradesSeq, partition.KlinesSeq, lease.IsHeld ? "" : " (lease lost: checkpoint not saved)");
        }
    }

    private async Task OnTradesAsync(AlertPartition partition, INatsJSMsg<byte[]> msg, ulong sequence, CancellationToken ct)
    {
        Trade[] batch = [];
        if (msg.Data is { Length: > 0 } data && msg.Subject.StartsWith("market.raw.", StringComparison.Ordinal))
        {
            using var activity = NatsTracing.StartProcessIfSampled(msg.Subject, msg.Headers);
            try
            {
                // One trade, or several of one market in id order (TradeMessages): each one is a price the rules see.
                batch = TradeMessages.Decode(data);
            }
            catch (JsonException ex)
            {
                logger.LogWarning(ex, "Ignored a message on {Subject} that is not a trade", msg.Subject);
            }
        }

        await partition.OnTradesAsync(batch, sequence, ct);
    }

    private async Task OnKlineAsync(AlertPartition partition, INatsJSMsg<byte[]> msg, ulong sequence, CancellationToken ct)
    {
        Kline? kline = null;
        // Klines built from imported history never fire alerts. Nor does an amended close (late trades added to a kline
        // already closed, docs/klines.md): the rules acted on that kline's original close, and a closed-kline rule must
        // fire once per kline — the amendment only corrects what is stored.
        if (msg.Data is { Length: > 0 } data
            && !(msg.Headers?.TryGetValue(SourceHeader, out var source) == true && source == "history")
            && !(msg.Headers?.ContainsKey(KlineHeaders.Amendment) == true))
        {
            using var activity = NatsTracing.StartProcessIfSampled(msg.Subject, msg.Headers);
            try
            {
                kline = JsonSerializer.Deserialize(data, ContractsJsonContext.Wire.Kline);
            }
            catch (JsonException ex)
            {
                logger.LogWarning(ex, "Ignored a message on {Subject} that is not a kline", msg.Subject);
            }
        }

        await partition.OnKlineAsync(kline, sequence, ct);
    }

    /// <summary>A rule of this partition was stored or deleted: take its stored state, and answer once the engine has it.</summary>
    private async Task ApplyChangesAsync(AlertPartition partition, INatsSub<byte[]> changes, CancellationToken ct, CancellationToken stop)
    {
        try
        {
            await foreach (var message in changes.Msgs.ReadAllAsync(stop))
            {
                if (RuleAnnouncements.RuleIdOf(message) is not { } id)
                {
                    continue;
                }

                while (true)
                {
                    try
                    {
                        var rule = await rules.LoadAsync(id, ct);
                        if (rule is { Done: false } && Partitions.OfMarket(rule.Exchange, rule.Symbol) == partition.Partition)
                        {
                            await partition.AddAsync(rule, ct);
                        }
                        else
                        {
                            await partition.RemoveAsync(id, ct);
                        }

                        break;
                    }
                    catch (Exception ex) when (!ct.IsCancellationRequested && !stop.IsCancellationRequested)
                    {
                        logger.LogWarning(ex, "Applying the change of alert rule {RuleId} failed; retrying in 1 s", id);
                        await Task.Delay(TimeSpan.FromSeconds(1), stop);
                    }
                }

                if (message.ReplyTo is not null)
                {
                    await message.ReplyAsync(Array.Empty<byte>(), cancellationToken: ct);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopping: a change not applied yet is loaded by the next owner from the database.
        }
    }

    private async Task CheckpointEveryIntervalAsync(AlertPartition partition, PartitionLease lease, CancellationToken stop)
    {
        var saved = (partition.TradesSeq, partition.KlinesSeq);
        try
        {
            while (true)
            {
                await Task.Delay(CheckpointInterval, stop);
                if ((partition.TradesSeq, partition.KlinesSeq) != saved)
                {
                    saved = (partition.TradesSeq, partition.KlinesSeq);
                    await SaveAsync(partition, lease, stop);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The final checkpoint is saved when the partition stops.
        }
    }

    private async Task SaveAsync(AlertPartition partition, PartitionLease lease, CancellationToken ct)
    {
        if (!lease.IsHeld)
        {
            return;
        }

        try
        {
            if (await partition.CheckpointAsync(ct) is not { } checkpoint)
            {
                return;
            }

            if (!await checkpoints.SaveAsync(partition.Partition, lease.Fence, checkpoint, ct))
            {
                throw new InvalidOperationException($"Alert partition {partition.Partition} was claimed by a later owner; this replica stops it");
            }
        }
        catch (Exception ex) when (ex is not InvalidOperationException && !ct.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Saving the checkpoint of alert partition {Partition} failed; the next save covers it", partition.Partition);
        }
    }

    /// <summary>The first loop that fails stops the others (the partition restarts from its checkpoint).</summary>
    private static async Task UntilFirstFailure(Task loop, CancellationTokenSource stop)
    {
        try
        {
            await loop;
        }
        catch
        {
            await stop.CancelAsync();
            throw;
        }
    }
}
