using Microsoft.Extensions.Options;
using NATS.Client.JetStream;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.MarketData.Klines;
using QuantTrader.ServiceDefaults.Messaging;
using QuantTrader.ServiceDefaults.Partitioning;

namespace QuantTrader.Kline.Aggregation;

/// <summary>
/// Turns the trades of one partition's markets into klines (docs/klines.md), while this replica holds the partition's
/// lease. Restores the partition's checkpoint, reads its live and imported trades with one ordered consumer each,
/// filtered by the server to its subjects (<see cref="Subjects.MarketRawPartition"/>,
/// <see cref="Subjects.MarketHistoryPartition"/>), and applies the clock and the open updates on two timers. Trades,
/// ticks and checkpoints take turns through one gate per partition, so its aggregators see one input at a time and the
/// trades arrive in the stream's order; partitions run side by side.
/// </summary>
public sealed class KlinePartition(
    INatsJSContext js,
    CheckpointStore checkpoints,
    KlinePublisher publisher,
    KlineReplays replays,
    IOptions<KlineOptions> options,
    TimeProvider time,
    ILogger<KlinePartition> logger) : IPartitionWork
{
    private readonly KlineOptions _options = options.Value;
    private readonly SemaphoreSlim _streamsGate = new(1, 1);
    private bool _streamsReady;

    public async Task RunAsync(PartitionLease lease)
    {
        var partition = lease.Partition;
        var stopping = lease.Stopping;
        await EnsureStreamsAsync(stopping);

        var restored = await checkpoints.LoadAsync(partition, stopping);
        var aggregators = new PartitionAggregators(partition, publisher, _options, logger);
        aggregators.Restore(restored.Aggregators);

        var live = new PartitionConsumer(js, Streams.MarketRaw().Name!, Subjects.MarketRawPartition(partition), $"kline-{partition}", logger);
        var history = new PartitionConsumer(js, Streams.MarketHistory().Name!, Subjects.MarketHistoryPartition(partition), $"kline-history-{partition}", logger);
        var run = new PartitionRun(lease, restored, live, aggregators, new KlineClock(_options, publisher), new OpenUpdates(_options, publisher),
            checkpoints, _options, time, logger);
        logger.LogInformation(
            "Partition {Partition} (fence {Fence}): {Count} aggregators restored from the checkpoint at MARKET_RAW sequence {Seq}; replaying its trades from there",
            partition, lease.Fence, aggregators.Count, restored.StreamSeq);

        replays.Started(run.Replay);
        try
        {
            await ConsumeUntilStoppedAsync(run, restored, live, history, stopping);
            // Stopped (hand-over, shutdown or lease lost): the last message is finished; close what the clock must and
            // checkpoint, not cancellable by the stop that got us here.
            await run.DrainAsync(CancellationToken.None);
            logger.LogInformation("Partition {Partition}: stopped at MARKET_RAW sequence {Seq}{Note}", partition, run.StreamSeq,
                lease.IsHeld ? ", checkpointed for the next owner" : "");
        }
        finally
        {
            replays.Ended(run.Replay);
        }
    }

    /// <summary>
    /// The trades are handled on the consumers' own loops and the two timers take the same gate between them (handing
    /// every trade through a channel to a separate loop made the two threads contend on the channel's lock: ~20 % of
    /// this service's CPU at 5,000 trades/s). A busy gate just delays a tick, which is harmless: the clock and the open
    /// updates catch up on the next one. Messages and ticks already inside the gate finish even when the stop comes:
    /// half a message applied and not checkpointed would be applied again by the replay.
    /// </summary>
    private async Task ConsumeUntilStoppedAsync(PartitionRun run, PartitionCheckpoint restored, PartitionConsumer live, PartitionConsumer history, CancellationToken stopping)
    {
        using var gate = new SemaphoreSlim(1, 1);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        Task[] loops =
        [
            // Live trades from the checkpoint on; on the first start from the beginning of the longest window still
            // open (1d, UTC midnight), which rebuilds every open kline of every interval.
            ConsumeAsync(live.ReadAsync(restored.StreamSeq, KlineAggregator.WindowStart(time.GetUtcNow(), KlineIntervals.All["1d"]), stop.Token), fromHistory: false),
            // History has no clock and no open window to rebuild: all of it the first time, then from the checkpoint on.
            ConsumeAsync(history.ReadAsync(restored.HistorySeq, fromTime: null, stop.Token), fromHistory: true),
            TickAsync(_options.ClockTick, () => run.OnClockAsync(CancellationToken.None)),
            TickAsync(_options.OpenUpdateInterval / OpenUpdates.Slots, () => run.OnOpenUpdateTickAsync(CancellationToken.None)),
        ];

        try
        {
            // Whichever ends first ends the run: the stop, or a failure (rethrown here, so the run restarts from the
            // last checkpoint).
            await await Task.WhenAny(loops);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // the stop
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(loops).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        async Task ConsumeAsync(IAsyncEnumerable<INatsJSMsg<byte[]>> messages, bool fromHistory)
        {
            await foreach (var msg in messages)
            {
                await gate.WaitAsync(stop.Token);
                try
                {
                    await run.OnMessageAsync(msg, fromHistory, CancellationToken.None);
                }
                finally
                {
                    gate.Release();
                }
            }

            stop.Token.ThrowIfCancellationRequested();
            throw new InvalidOperationException($"The {(fromHistory ? "MARKET_HISTORY" : "MARKET_RAW")} consumer of partition {run.Partition} ended");
        }

        Task TickAsync(TimeSpan period, Func<Task> onTick) => Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(period, time);
            while (await timer.WaitForNextTickAsync(stop.Token))
            {
                await gate.WaitAsync(stop.Token);
                try
                {
                    await onTick();
                }
                finally
                {
                    gate.Release();
                }
            }
        }, stop.Token);
    }

    /// <summary>Once per process (the first partition to start): the streams read and written here exist.</summary>
    private async Task EnsureStreamsAsync(CancellationToken ct)
    {
        await _streamsGate.WaitAsync(ct);
        try
        {
            if (_streamsReady)
            {
                return;
            }

            await StreamSetup.EnsureAsync(js, Streams.MarketRaw(), logger, ct);
            await StreamSetup.EnsureAsync(js, Streams.MarketHistory(), logger, ct);
            await StreamSetup.EnsureAsync(js, Streams.MarketKline(), logger, ct);
            _streamsReady = true;
        }
        finally
        {
            _streamsGate.Release();
        }
    }
}
