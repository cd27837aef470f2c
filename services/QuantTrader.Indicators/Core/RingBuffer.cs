namespace QuantTrader.Indicators;

/// <summary>Fixed-capacity FIFO; pushing into a full buffer evicts the oldest item.</summary>
internal sealed class RingBuffer<T>
{
    private readonly T[] items;
    private int start;

    public RingBuffer(int capacity) => items = new T[capacity];

    public int Count { get; private set; }

    public bool IsFull => Count == items.Length;

    /// <summary>Item by age: 0 is the oldest, Count−1 the newest.</summary>
    public T this[int index] => items[(start + index) % items.Length];

    /// <summary>Appends <paramref name="item"/>; returns true and the evicted oldest item when the buffer was full.</summary>
    public bool Push(T item, out T evicted)
    {
        if (Count < items.Length)
        {
            items[(start + Count) % items.Length] = item;
            Count++;
            evicted = default!;
            return false;
        }

        evicted = items[start];
        items[start] = item;
        start = (start + 1) % items.Length;
        return true;
    }
}
