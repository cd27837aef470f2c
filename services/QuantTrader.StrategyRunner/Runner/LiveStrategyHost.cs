using QuantTrader.Strategies.Sandbox;
using QuantTrader.StrategyRunner.Storage;

namespace QuantTrader.StrategyRunner.Runner;

/// <summary>
/// The live runner's side of <see cref="IStrategyHost"/>, bound to one strategy and its owner. Host calls arrive
/// synchronously inside a wasm call that runs under a wall-clock deadline, so nothing here does I/O: orders and
/// cancels are queued with a handle at once and submitted by <see cref="RunningStrategy"/> right after the call
/// returns (the paper engine's answer, accepted or rejected, goes to the strategy's log). Position and quote
/// balance are values the runner refreshed before the call.
/// </summary>
internal sealed class LiveStrategyHost(long nextHandle, decimal position) : IStrategyHost
{
    private readonly List<PendingOrder> _orders = [];
    private readonly List<long> _cancels = [];
    private readonly List<(DateTimeOffset, string, string)> _logs = [];

    public long NextHandle { get; private set; } = Math.Max(1, nextHandle);

    public decimal Position { get; set; } = position;

    /// <summary>Null when the runner could not read the owner's balance: the strategy then sees NaN.</summary>
    public decimal? KnownQuoteBalance { get; set; }

    public decimal QuoteBalance => KnownQuoteBalance
        ?? throw new InvalidOperationException("the owner's quote balance is not known right now");

    public long PlaceOrder(StrategyOrderRequest request)
    {
        var handle = NextHandle++;
        _orders.Add(new PendingOrder(handle, request));
        return handle;
    }

    /// <summary>Accepted for any handle this strategy was given; whether the engine still had it open is logged later.</summary>
    public bool Cancel(long handle)
    {
        if (handle <= 0 || handle >= NextHandle)
        {
            return false;
        }
        _cancels.Add(handle);
        return true;
    }

    public void Log(string message) => _logs.Add((DateTimeOffset.UtcNow, "strategy", message));

    public void RunnerLog(string message) => _logs.Add((DateTimeOffset.UtcNow, "runner", message));

    /// <summary>What the last call asked for, handed over once.</summary>
    public (IReadOnlyList<PendingOrder> Orders, IReadOnlyList<long> Cancels, IReadOnlyList<(DateTimeOffset, string, string)> Logs) Drain()
    {
        var drained = (_orders.ToArray(), _cancels.ToArray(), _logs.ToArray());
        _orders.Clear();
        _cancels.Clear();
        _logs.Clear();
        return drained;
    }
}
