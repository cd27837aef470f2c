namespace QuantTrader.LoadTest;

/// <summary>Latency samples in milliseconds, summarised as p50/p99/max.</summary>
public sealed class Percentiles
{
    private readonly List<double> _samples = [];
    private readonly Lock _gate = new();

    public void Add(double milliseconds)
    {
        lock (_gate)
        {
            _samples.Add(milliseconds);
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _samples.Count;
            }
        }
    }

    public (double P50, double P99, double Max) Summary()
    {
        lock (_gate)
        {
            if (_samples.Count == 0)
            {
                return (double.NaN, double.NaN, double.NaN);
            }
            var sorted = _samples.Order().ToArray();
            double At(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
            return (At(0.50), At(0.99), sorted[^1]);
        }
    }
}
