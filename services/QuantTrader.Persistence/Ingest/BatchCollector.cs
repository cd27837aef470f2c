using System.Threading.Channels;

namespace QuantTrader.Persistence.Ingest;

/// <summary>
/// Closes batches by size or by time, whichever comes first: a batch is closed as soon as its items weigh
/// <see cref="MaxSize"/> (each item weighs 1 unless <c>weigh</c> says otherwise: the saver weighs a message by its
/// rows, so a message carrying many trades fills a batch sooner; the last item may take a batch past the size), and
/// it is closed <see cref="MaxDelay"/> after its first item arrived even when not full (so a quiet market is stored
/// within that delay). Waiting for the first item has no deadline: an idle stream makes no empty batches.
/// </summary>
public sealed class BatchCollector<T>(int maxSize, TimeSpan maxDelay, TimeProvider? timeProvider = null, Func<T, int>? weigh = null)
{
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    public int MaxSize { get; } = maxSize > 0 ? maxSize : throw new ArgumentOutOfRangeException(nameof(maxSize), maxSize, "A batch holds at least one item.");

    public TimeSpan MaxDelay { get; } = maxDelay > TimeSpan.Zero ? maxDelay : throw new ArgumentOutOfRangeException(nameof(maxDelay), maxDelay, "The batch delay must be positive.");

    /// <summary>
    /// The next batch: waits for a first item, then takes what is available until the batch is full or the delay
    /// has passed. Returns an empty list only when the channel is completed and drained.
    /// </summary>
    public async Task<List<T>> NextAsync(ChannelReader<T> reader, CancellationToken ct)
    {
        var batch = new List<T>(Math.Min(MaxSize, 1024));
        if (!await reader.WaitToReadAsync(ct))
        {
            return batch;
        }

        using var deadline = new CancellationTokenSource(MaxDelay, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        var weight = 0;
        while (weight < MaxSize)
        {
            while (weight < MaxSize && reader.TryRead(out var item))
            {
                batch.Add(item);
                weight += weigh is null ? 1 : weigh(item);
            }
            if (weight >= MaxSize || deadline.IsCancellationRequested)
            {
                break;
            }
            try
            {
                if (!await reader.WaitToReadAsync(linked.Token))
                {
                    break; // completed: what we have is the last batch
                }
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                break; // the batch's time is up
            }
        }
        return batch;
    }
}
