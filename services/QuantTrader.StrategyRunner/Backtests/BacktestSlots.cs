using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.StrategyRunner.Backtests;

/// <summary>
/// Backtests running per account, against the plan's <c>ConcurrentBacktests</c>. Counted in this process: one
/// runner replica serves every backtest (README, "Strategies and backtests"). A slot is a lease: disposing it
/// (in a <c>finally</c>, on every path: result, error, client gone) gives it back.
/// </summary>
public sealed class BacktestSlots
{
    private static readonly UpDownCounter<long> Running =
        QuantTraderTelemetry.Meter.CreateUpDownCounter<long>("quanttrader.backtests.running", description: "Backtests running now");

    private readonly ConcurrentDictionary<Guid, int> _byUser = new();

    /// <summary>A lease on one of <paramref name="limit"/> slots of <paramref name="userId"/>; null when all are taken.</summary>
    public IDisposable? TryAcquire(Guid userId, int limit)
    {
        while (true)
        {
            var current = _byUser.GetValueOrDefault(userId);
            if (current >= limit)
            {
                return null;
            }
            var taken = current == 0 ? _byUser.TryAdd(userId, 1) : _byUser.TryUpdate(userId, current + 1, current);
            if (taken)
            {
                Running.Add(1);
                return new Lease(this, userId);
            }
        }
    }

    /// <summary>Backtests <paramref name="userId"/> has running now.</summary>
    public int InUse(Guid userId) => _byUser.GetValueOrDefault(userId);

    private void Release(Guid userId)
    {
        while (true)
        {
            var current = _byUser[userId];
            var released = current == 1
                ? _byUser.TryRemove(new KeyValuePair<Guid, int>(userId, 1))
                : _byUser.TryUpdate(userId, current - 1, current);
            if (released)
            {
                Running.Add(-1);
                return;
            }
        }
    }

    private sealed class Lease(BacktestSlots slots, Guid userId) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Release(userId);
            }
        }
    }
}
