namespace QuantTrader.Indicators;

/// <summary>
/// Rolling maximum or minimum over the last <c>period</c> values in amortised O(1) per value, using a
/// monotonic deque (each value enters and leaves the deque once).
/// </summary>
internal sealed class RollingExtreme
{
    private readonly bool isMax;
    private readonly int period;
    private readonly long[] sequence;
    private readonly decimal[] values;
    private int head;
    private int count;
    private long next;

    public RollingExtreme(int period, bool isMax)
    {
        this.period = period;
        this.isMax = isMax;
        sequence = new long[period];
        values = new decimal[period];
    }

    /// <summary>True once <c>period</c> values have been seen.</summary>
    public bool IsFull => next >= period;

    /// <summary>Extreme of the values currently in the window.</summary>
    public decimal Current => values[head];

    public void Add(decimal value)
    {
        var current = next++;

        // Drop the front if it has slid out of the window.
        if (count > 0 && sequence[head] <= current - period)
        {
            head = (head + 1) % period;
            count--;
        }

        // Drop values the new one dominates: they can never be the extreme again.
        while (count > 0)
        {
            var back = (head + count - 1) % period;
            var dominated = isMax ? values[back] <= value : values[back] >= value;
            if (!dominated)
            {
                break;
            }

            count--;
        }

        var slot = (head + count) % period;
        sequence[slot] = current;
        values[slot] = value;
        count++;
    }
}
