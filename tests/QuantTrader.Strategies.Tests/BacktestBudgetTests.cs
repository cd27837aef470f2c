using System.Text;
using QuantTrader.Strategies.Backtesting;
using Xunit;

namespace QuantTrader.Strategies.Tests;

public sealed class BacktestBudgetTests
{
    private static readonly byte[] FuelBurner = Encoding.UTF8.GetBytes(Strategies.Hostile("fuel-burner"));

    [Fact]
    public void A_run_that_uses_up_its_fuel_budget_stops_with_the_budget_named()
    {
        var perBar = Backtester.Run(FuelBurner, null, Klines.Wave(1)).TotalFuel;

        var result = Backtester.Run(FuelBurner, null, Klines.Wave(50), new BacktestOptions { FuelBudget = perBar * 10 });

        Assert.Null(result.Fault);
        Assert.Equal("backtestFuel", result.Stopped!.Limit);
        Assert.Contains($"its budget of {perBar * 10}", result.Stopped.Message, StringComparison.Ordinal);
        Assert.Equal(10, result.BarsProcessed);
        Assert.Equal(10, result.EquityCurve.Count);
        Assert.InRange(result.TotalFuel, perBar * 10, perBar * 11);
    }

    [Fact]
    public void A_run_within_its_budget_is_not_stopped()
    {
        var result = Backtester.Run(FuelBurner, null, Klines.Wave(5), new BacktestOptions { FuelBudget = 1_000_000_000 });

        Assert.Null(result.Stopped);
        Assert.Equal(5, result.BarsProcessed);
    }

    [Fact]
    public void The_budget_stop_is_deterministic()
    {
        var options = new BacktestOptions { FuelBudget = 50_000_000 };

        Assert.Equal(Backtester.Run(FuelBurner, null, Klines.Wave(30), options).ToCanonicalJson(),
            Backtester.Run(FuelBurner, null, Klines.Wave(30), options).ToCanonicalJson());
    }

    [Fact]
    public void A_cancelled_run_stops_at_the_next_bar()
    {
        using var cancel = new CancellationTokenSource();
        var bars = 0;
        var klines = Klines.Wave(100_000);
        var counting = new CountingList(klines, () =>
        {
            if (++bars == 3)
            {
                cancel.Cancel();
            }
        });

        Assert.ThrowsAny<OperationCanceledException>(() => Backtester.Run(FuelBurner, null, counting, cancellationToken: cancel.Token));
        Assert.InRange(bars, 3, 4);
    }

    /// <summary>Klines that report each bar the backtester reads, to cancel from "inside" the run.</summary>
    private sealed class CountingList(List<Contracts.MarketData.Kline> inner, Action onRead) : IReadOnlyList<Contracts.MarketData.Kline>
    {
        public Contracts.MarketData.Kline this[int index] => inner[index];

        public int Count => inner.Count;

        public IEnumerator<Contracts.MarketData.Kline> GetEnumerator()
        {
            foreach (var kline in inner)
            {
                onRead();
                yield return kline;
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
