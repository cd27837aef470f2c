namespace QuantTrader.Alert.Evaluation;

/// <summary>
/// The past prices one percent-change window needs, in constant memory: time is cut into steps of
/// window / <see cref="BucketsPerWindow"/> (rounded up to a tick), and each step (bucket) keeps only the last trade in
/// it (time and price). At most <see cref="Capacity"/> buckets are held, whatever the trade rate, because only the
/// buckets from one window back to now can still be a reference.
/// <para>The reference price for a trade at <c>t</c> is the last price at or before <c>t − window</c>, exactly, unless
/// the market also traded later within that instant's step; then it is the last price before that step began (the
/// look-back is then up to one step longer than the window: ≤ 0.25 s for 30 s, ≤ 12 min for 1 day). With no trade seen
/// that far back the reference is unknown. A trade older than the newest one recorded is evaluated but not recorded
/// (the later price stays the last of its step).</para>
/// Not thread-safe: the engine is single-threaded.
/// </summary>
internal sealed class BucketedPriceWindow
{
    public const int BucketsPerWindow = 120;

    /// <summary>Buckets from one window back to now (≤ buckets per window + 2, steps being rounded up), plus the one before.</summary>
    public const int Capacity = BucketsPerWindow + 4;

    private readonly Bucket[] _ring = new Bucket[Capacity];
    private readonly long _windowTicks;
    private readonly long _stepTicks;
    private int _head;

    public BucketedPriceWindow(TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        _windowTicks = window.Ticks;
        _stepTicks = CeilDiv(window.Ticks, BucketsPerWindow);
    }

    /// <summary>Buckets held now.</summary>
    public int Count { get; private set; }

    public TimeSpan Step => TimeSpan.FromTicks(_stepTicks);

    /// <summary>The price one window before <paramref name="time"/> (see the class remarks); null when unknown.</summary>
    public decimal? ReferenceFor(DateTimeOffset time)
    {
        var target = time.UtcTicks - _windowTicks;
        var targetBucket = CeilDiv(target, _stepTicks);

        // Buckets wholly before the target's step, except the last of them, can never be a reference again
        // (trade times move forward).
        while (Count >= 2 && At(1).Index < targetBucket)
        {
            _head = (_head + 1) % Capacity;
            Count--;
        }

        if (Count == 0)
        {
            return null;
        }

        var first = At(0);
        if (first.Index == targetBucket)
        {
            // Nothing recorded before the target's step: exact only when the step's last trade is not after the target.
            return first.LastTicks <= target ? first.Price : null;
        }

        if (first.Index > targetBucket)
        {
            return null;
        }

        return Count >= 2 && At(1) is { } next && next.Index == targetBucket && next.LastTicks <= target ? next.Price : first.Price;
    }

    public void Add(DateTimeOffset time, decimal price)
    {
        var ticks = time.UtcTicks;
        var index = CeilDiv(ticks, _stepTicks);
        if (Count > 0)
        {
            ref var last = ref _ring[(_head + Count - 1) % Capacity];
            if (index < last.Index || (index == last.Index && ticks < last.LastTicks))
            {
                return;
            }

            if (index == last.Index)
            {
                last = new Bucket(index, ticks, price);
                return;
            }
        }

        if (Count == Capacity)
        {
            // Only reachable with trade times far out of order; the oldest bucket is the least useful.
            _head = (_head + 1) % Capacity;
            Count--;
        }

        _ring[(_head + Count) % Capacity] = new Bucket(index, ticks, price);
        Count++;
    }

    /// <summary>The buckets held, oldest first, as (time of their last trade, its price): adding them again to an empty
    /// window of the same length rebuilds this one.</summary>
    public IReadOnlyList<PricePoint> Export() =>
        [.. Enumerable.Range(0, Count).Select(i => At(i)).Select(b => new PricePoint(b.LastTicks, b.Price))];

    private Bucket At(int offset) => _ring[(_head + offset) % Capacity];

    /// <summary>Bucket <c>k</c> holds the times in ((k − 1) · step, k · step]; this is its k for a time.</summary>
    private static long CeilDiv(long value, long divisor) => value > 0 ? ((value - 1) / divisor) + 1 : value / divisor;

    private readonly record struct Bucket(long Index, long LastTicks, decimal Price);
}
