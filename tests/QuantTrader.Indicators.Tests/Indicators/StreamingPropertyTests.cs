using FsCheck.Xunit;
using QuantTrader.Indicators;

namespace QuantTrader.Indicators.Tests.Indicators;

/// <summary>
/// The O(1) update paths (running decimal sums, WMA numerator, monotonic-deque extremes, compensated
/// double windows) must equal a naive recomputation over the window, for any bars and period.
/// </summary>
public sealed class StreamingPropertyTests
{
    [Property(MaxTest = 200)]
    public bool Window_indicators_equal_naive_recomputation(int[] moves, byte periodSeed)
    {
        var period = 1 + (periodSeed % 9);
        var bars = BarsFrom(moves);
        var sma = new Sma(period);
        var wma = new Wma(period);
        var stdev = new StandardDeviation(period);
        var willr = new WilliamsR(period);
        var stoch = new Stochastic(period, 2, 2);
        var cci = new Cci(period);
        var rawK = new List<double>();
        var smoothK = new List<double>();

        for (var i = 0; i < bars.Count; i++)
        {
            var ready = sma.Update(bars[i]);
            wma.Update(bars[i]);
            stdev.Update(bars[i]);
            willr.Update(bars[i]);
            stoch.Update(bars[i]);
            cci.Update(bars[i]);
            if (ready != (i >= period - 1))
            {
                return false;
            }

            if (!ready)
            {
                continue;
            }

            var window = bars.Skip(i - period + 1).Take(period).ToList();
            var closes = window.Select(b => b.Close).ToList();
            var mean = closes.Average();
            var weighted = closes.Select((c, j) => c * (j + 1)).Sum() / (period * (period + 1) / 2m);
            var variance = closes.Select(c => (c - mean) * (c - mean)).Sum() / period;
            var high = window.Max(b => b.High);
            var low = window.Min(b => b.Low);
            var raw = high == low ? 0d : (double)(100m * (bars[i].Close - low) / (high - low));
            rawK.Add(raw);
            var typical = window.Select(b => (b.High + b.Low + b.Close) / 3m).ToList();
            var typicalMean = typical.Average();
            var meanDeviation = typical.Select(t => Math.Abs(t - typicalMean)).Average();
            var expectedCci = meanDeviation == 0m ? 0d : (double)((typical[^1] - typicalMean) / (0.015m * meanDeviation));

            if (!Close(sma.Value, (double)mean)
                || !Close(wma.Value, (double)weighted)
                || !Close(stdev.Value, Math.Sqrt((double)variance))
                || !Close(willr.Value, raw - 100d)
                || !Close(cci.Value, expectedCci, 1e-6))
            {
                return false;
            }

            if (rawK.Count >= 2)
            {
                smoothK.Add((rawK[^1] + rawK[^2]) / 2d);
                if (!Close(stoch.K, smoothK[^1]))
                {
                    return false;
                }

                if (smoothK.Count >= 2 && !Close(stoch.D, (smoothK[^1] + smoothK[^2]) / 2d))
                {
                    return false;
                }
            }
        }

        return true;
    }

    [Property(MaxTest = 200)]
    public bool Bounded_oscillators_stay_in_range(int[] moves)
    {
        var rsi = new Rsi(5);
        var mfi = new Mfi(5);
        var stoch = new Stochastic(5, 3, 3);
        var willr = new WilliamsR(5);
        var adx = new Adx(3);
        foreach (var bar in BarsFrom(moves))
        {
            if ((rsi.Update(bar) && rsi.Value is < 0d or > 100d)
                || (mfi.Update(bar) && mfi.Value is < 0d or > 100d)
                || (stoch.Update(bar) && (stoch.K is < -1e-9 or > 100d + 1e-9 || stoch.D is < -1e-9 or > 100d + 1e-9))
                || (willr.Update(bar) && willr.Value is < -100d or > 0d)
                || (adx.Update(bar) && adx.Value is < 0d or > 100d + 1e-9))
            {
                return false;
            }
        }

        return true;
    }

    [Fact]
    public void Long_stream_does_not_drift()
    {
        // 20,000 bars through the running sums, then compare with a fresh recomputation of the last window.
        var random = new Random(42);
        var moves = Enumerable.Range(0, 20_000).Select(_ => random.Next(-50, 51)).ToArray();
        var bars = BarsFrom(moves);
        var stdev = new StandardDeviation(20);
        var wma = new Wma(20);
        var stoch = new Stochastic(14, 3, 3);
        var reference = new Stochastic(14, 3, 3);
        foreach (var bar in bars)
        {
            stdev.Update(bar);
            wma.Update(bar);
            stoch.Update(bar);
        }

        foreach (var bar in bars.Skip(bars.Count - 40))
        {
            reference.Update(bar);
        }

        var closes = bars.Skip(bars.Count - 20).Select(b => (double)b.Close).ToArray();
        var mean = closes.Average();
        Assert.Equal(Math.Sqrt(closes.Sum(c => (c - mean) * (c - mean)) / 20), stdev.Value, 12);
        Assert.Equal(closes.Select((c, j) => c * (j + 1)).Sum() / 210d, wma.Value, 10);
        Assert.Equal(reference.K, stoch.K, 10);
        Assert.Equal(reference.D, stoch.D, 10);
    }

    /// <summary>A bar walk: each move shifts the close by move/100 (bounded), with high/low around open/close.</summary>
    internal static List<IndicatorBar> BarsFrom(int[] moves)
    {
        var bars = new List<IndicatorBar>(moves.Length);
        var close = 100m;
        var time = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < moves.Length; i++)
        {
            var open = close;
            close = Math.Max(1m, close + ((moves[i] % 500) / 100m));
            var wick = Math.Abs(moves[i] % 7) / 10m;
            bars.Add(new IndicatorBar(
                time.AddMinutes(i),
                open,
                Math.Max(open, close) + wick,
                Math.Max(0.5m, Math.Min(open, close) - (wick / 2m)),
                close,
                1m + Math.Abs(moves[i] % 1000)));
        }

        return bars;
    }

    private static bool Close(double actual, double expected, double tolerance = 1e-9) =>
        Math.Abs(actual - expected) <= tolerance * Math.Max(1d, Math.Abs(expected));
}
