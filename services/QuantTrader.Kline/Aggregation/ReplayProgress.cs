using System.Collections.Concurrent;
using NATS.Client.JetStream;
using QuantTrader.ServiceDefaults.Partitioning;

namespace QuantTrader.Kline.Aggregation;

/// <summary>
/// Whether a partition's replay of its live trades has reached the point where the partition stood when its consumer
/// was created: until then the clock is not applied (it would close windows whose trades are still being replayed) and
/// no open updates go out. Told by the consumer's pending count, not the stream's last sequence: the consumer reads only
/// its partition's subjects, whose last message can lie far below the stream's.
/// </summary>
public sealed class ReplayProgress(int partition, PartitionConsumer live)
{
    private ulong _delivered;
    private volatile bool _caughtUp;

    public int Partition => partition;

    public bool CaughtUp => _caughtUp;

    /// <summary>After a live message; true when this message completed the replay.</summary>
    public bool OnMessage(NatsJSMsgMetadata? metadata)
    {
        if (_caughtUp)
        {
            return false;
        }

        _delivered++;
        // Nothing pending behind this message (the consumer is at the present), or as many delivered as were pending
        // when the consumer was created (a busy partition may never show 0 pending).
        return metadata is { NumPending: 0 } || Reached() ? _caughtUp = true : false;
    }

    /// <summary>On the clock: a partition with nothing to replay receives no message that could tell it.</summary>
    public bool OnTick() => !_caughtUp && Reached() && (_caughtUp = true);

    private bool Reached() => live.PendingAtStart is { } pending && _delivered >= pending;
}

/// <summary>The replay progress of the partitions running in this replica (for the health check).</summary>
public sealed class KlineReplays
{
    private readonly ConcurrentDictionary<int, ReplayProgress> _running = new();

    public void Started(ReplayProgress progress) => _running[progress.Partition] = progress;

    public void Ended(ReplayProgress progress) => _running.TryRemove(new KeyValuePair<int, ReplayProgress>(progress.Partition, progress));

    public bool CaughtUp(int partition) => _running.TryGetValue(partition, out var progress) && progress.CaughtUp;
}
