namespace QuantTrader.Indicators;

/// <summary>
/// Rolling window of decimals with running sum and sum of squares. Decimal addition of exchange
/// prices is exact, so the running sums never drift however long the stream runs (a running double
/// sum of squares would lose ~1e-10 of a variance of 1 on prices near 200).
/// </summary>
internal sealed class DecimalWindow
{
    private readonly RingBuffer<decimal> values;

    public DecimalWindow(int period)
    {
        Period = period;
        values = new RingBuffer<decimal>(period);
    }

    public int Period { get; }

    public bool IsFull => values.IsFull;

    public int Count => values.Count;

    public decimal Sum { get; private set; }

    public decimal SumOfSquares { get; private set; }

    public decimal this[int index] => values[index];

    public void Add(decimal value)
    {
        if (values.Push(value, out var evicted))
        {
            Sum -= evicted;
            SumOfSquares -= evicted * evicted;
        }

        Sum += value;
        SumOfSquares += value * value;
    }

    public decimal Mean => Sum / values.Count;

    /// <summary>Population variance (divide by N), as Bollinger Bands and Stock.Indicators' StdDev use.</summary>
    public decimal PopulationVariance
    {
        get
        {
            decimal n = values.Count;
            // (N·Σx² − (Σx)²) / N² keeps everything exact until the final division.
            var variance = ((n * SumOfSquares) - (Sum * Sum)) / (n * n);
            return variance < 0m ? 0m : variance;
        }
    }
}
