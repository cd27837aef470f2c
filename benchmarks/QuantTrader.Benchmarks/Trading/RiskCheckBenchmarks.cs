using BenchmarkDotNet.Attributes;
using QuantTrader.Contracts.Trading;
using QuantTrader.Trading.Risk;

namespace QuantTrader.Benchmarks.Trading;

/// <summary>
/// Issue 5: the pre-trade risk check. The issue sets no goal for the check alone, only order placement through
/// gateway → risk → accepted at p99 &lt; 5 ms; our goal is that the check is a negligible part of it: ≤ 1 µs
/// (0.02 % of the budget). Baseline: the same four comparisons hand-written on the same decimals, returning a bool
/// (no reply record), so the ratio is the cost of the contract types around the arithmetic.
/// </summary>
[MemoryDiagnoser]
[NoisyMachineJob]
public class RiskCheckBenchmarks
{
    private readonly RiskLimits _limits = new(MaxOrderNotional: 50_000m, MaxPositionNotional: 200_000m, MaxDailyLoss: 5_000m, MaxOpenOrders: 50);

    private readonly RiskCheckRequest _accepted = new(
        new Guid(1, 0, 0, new byte[8]), "binance", "BTCUSDT", OrderSide.Buy, 0.25m, 60_000.12m, 3, 30_000m, -120m);

    private readonly RiskCheckRequest _rejected = new(
        new Guid(1, 0, 0, new byte[8]), "binance", "BTCUSDT", OrderSide.Buy, 2.5m, 60_000.12m, 3, 30_000m, -120m);

    [Benchmark(Baseline = true, Description = "Baseline: the four checks hand-written, bool result")]
    public bool HandWritten()
    {
        var r = _accepted;
        var l = _limits;
        if (r.OpenOrders + 1L > l.MaxOpenOrders)
        {
            return false;
        }

        var notional = r.Quantity * r.ReferencePrice;
        if (notional > l.MaxOrderNotional)
        {
            return false;
        }

        var projected = r.PositionNotional + (r.Side == OrderSide.Buy ? notional : -notional);
        var reduces = Math.Abs(projected) <= Math.Abs(r.PositionNotional);
        if (!reduces && Math.Abs(projected) > l.MaxPositionNotional)
        {
            return false;
        }

        var loss = -r.DailyRealizedPnl;
        return reduces || loss <= 0m || loss < l.MaxDailyLoss;
    }

    [Benchmark(Description = "RiskEvaluator.Check, accepted (goal <= 1 us)")]
    public bool CheckAccepted() => RiskEvaluator.Check(_accepted, _limits).Accepted;

    [Benchmark(Description = "RiskEvaluator.Check, rejected on maxOrderNotional (goal <= 1 us)")]
    public bool CheckRejected() => RiskEvaluator.Check(_rejected, _limits).Accepted;
}
