using Wasmtime;

namespace QuantTrader.Strategies.Sandbox;

/// <summary>
/// One Wasmtime <see cref="Engine"/> shared by every strategy instance, configured for fuel (a deterministic
/// budget per call) and epoch interruption (a wall-clock deadline per call), plus the background ticker that
/// advances the epoch. Compiled modules belong to an engine, so create one per process and keep it.
/// </summary>
public sealed class StrategyEngine : IDisposable
{
    private static readonly Lazy<StrategyEngine> SharedInstance = new(() => new StrategyEngine());

    private readonly Timer _ticker;
    private readonly Lock _gate = new();
    private bool _disposed;

    public StrategyEngine() : this(TimeSpan.FromMilliseconds(5))
    {
    }

    /// <param name="epochTick">How often the epoch advances; deadlines are whole ticks, so this is their resolution.</param>
    public StrategyEngine(TimeSpan epochTick)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(epochTick, TimeSpan.Zero);
        EpochTick = epochTick;
        using var config = new Config()
            .WithFuelConsumption(true)
            .WithEpochInterruption(true)
            // Threads, SIMD-relaxed and memory64 make behaviour depend on the machine or make the ABI's i32
            // pointers ambiguous; a strategy needs none of them.
            .WithWasmThreads(false)
            .WithRelaxedSIMD(false, false)
            .WithMemory64(false);
        Engine = new Engine(config);
        // A thread-pool timer rather than a dedicated thread: incrementing the epoch is one atomic add.
        _ticker = new Timer(static state => ((StrategyEngine)state!).Tick(), this, epochTick, epochTick);
    }

    /// <summary>A process-wide engine for callers that do not manage their own (never disposed).</summary>
    public static StrategyEngine Shared => SharedInstance.Value;

    public Engine Engine { get; }

    public TimeSpan EpochTick { get; }

    /// <summary>Ticks to allow for a wall-clock budget: rounded up, plus one because the first tick may come at once.</summary>
    internal ulong TicksFor(TimeSpan timeout) =>
        (ulong)Math.Max(1, Math.Ceiling(timeout.Ticks / (double)EpochTick.Ticks)) + 1;

    private void Tick()
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                Engine.IncrementEpoch();
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
        }
        _ticker.Dispose();
        Engine.Dispose();
    }
}
