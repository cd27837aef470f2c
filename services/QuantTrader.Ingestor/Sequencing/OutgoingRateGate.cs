namespace QuantTrader.Ingestor.Sequencing;

/// <summary>
/// At most <c>limit</c> outgoing messages in any window of <c>window</c> (Binance: 5 incoming messages per second per
/// connection, counting pings, pongs and subscribes; going over gets the connection cut). Pure: the caller supplies
/// the clock, so the rule is tested without waiting.
/// </summary>
public sealed class OutgoingRateGate(int limit, TimeSpan window)
{
    private readonly Queue<DateTimeOffset> _sent = new();
    private readonly Lock _lock = new();

    public int Limit { get; } = limit > 0 ? limit : throw new ArgumentOutOfRangeException(nameof(limit));

    /// <summary>How long to wait at <paramref name="now"/> before one more message may go (zero: now).</summary>
    public TimeSpan DelayBeforeNext(DateTimeOffset now)
    {
        lock (_lock)
        {
            Expire(now);
            return _sent.Count < Limit ? TimeSpan.Zero : _sent.Peek() + window - now;
        }
    }

    /// <summary>Claims a slot if one is free at <paramref name="now"/>.</summary>
    public bool TryAcquire(DateTimeOffset now)
    {
        lock (_lock)
        {
            Expire(now);
            if (_sent.Count >= Limit)
            {
                return false;
            }

            _sent.Enqueue(now);
            return true;
        }
    }

    /// <summary>Waits for a slot on <paramref name="time"/>'s clock, then claims it.</summary>
    public async Task AcquireAsync(TimeProvider time, CancellationToken ct)
    {
        while (!TryAcquire(time.GetUtcNow()))
        {
            await Task.Delay(DelayBeforeNext(time.GetUtcNow()) + TimeSpan.FromMilliseconds(1), time, ct);
        }
    }

    private void Expire(DateTimeOffset now)
    {
        while (_sent.Count > 0 && _sent.Peek() + window <= now)
        {
            _sent.Dequeue();
        }
    }
}
