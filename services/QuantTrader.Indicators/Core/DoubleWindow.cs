namespace QuantTrader.Indicators;

/// <summary>
/// Rolling window of doubles whose running sum is Neumaier-compensated, so removing and adding values
/// for thousands of bars stays within a few ulps of re-summing the window (which the reference does).
/// Used where the inputs are themselves derived doubles (stochastic %K/%D smoothing).
/// </summary>
internal sealed class DoubleWindow
{
    private readonly RingBuffer<double> values;
    private double sum;
    private double compensation;

    public DoubleWindow(int period)
    {
        Period = period;
        values = new RingBuffer<double>(period);
    }

    public int Period { get; }

    public bool IsFull => values.IsFull;

    public double Mean => (sum + compensation) / values.Count;

    public void Add(double value)
    {
        if (values.Push(value, out var evicted))
        {
            Accumulate(-evicted);
        }

        Accumulate(value);
    }

    private void Accumulate(double value)
    {
        var t = sum + value;
        compensation += Math.Abs(sum) >= Math.Abs(value) ? (sum - t) + value : (value - t) + sum;
        sum = t;
    }
}
