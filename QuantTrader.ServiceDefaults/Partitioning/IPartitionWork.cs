namespace QuantTrader.ServiceDefaults.Partitioning;

/// <summary>
/// A service's work on one partition (its markets or its users), run by <see cref="PartitionLeases"/> while this
/// replica holds the partition's lease.
/// </summary>
public interface IPartitionWork
{
    /// <summary>
    /// Works on the partition from its last checkpoint until <see cref="PartitionLease.Stopping"/> is cancelled, then
    /// finishes what is in flight, checkpoints (only while <see cref="PartitionLease.IsHeld"/>: a lease that lapsed may
    /// already have a new owner) and returns. The lease is released when this returns. An exception is logged and the
    /// work restarted from the checkpoint while the lease is still held.
    /// </summary>
    Task RunAsync(PartitionLease lease);
}

/// <summary>This replica's hold on one partition.</summary>
public sealed class PartitionLease
{
    private readonly CancellationTokenSource _stopping = new();
    private volatile bool _lost;

    internal PartitionLease(int partition, ulong fence)
    {
        Partition = partition;
        Fence = fence;
    }

    public int Partition { get; }

    /// <summary>
    /// The lease's revision when this replica took it: larger for every later owner of the same partition, so a store
    /// can refuse a checkpoint from an owner that has been superseded.
    /// </summary>
    public ulong Fence { get; }

    /// <summary>Cancelled when the work must stop: a hand-over, a shutdown, or the lease lost.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>False once the lease was lost (not renewed in time, or taken by another replica): do not checkpoint.</summary>
    public bool IsHeld => !_lost;

    internal void Stop() => _stopping.Cancel();

    internal void Lose()
    {
        _lost = true;
        _stopping.Cancel();
    }
}
