using System.Runtime.ExceptionServices;
using Wasmtime;

namespace QuantTrader.Strategies.Sandbox;

/// <summary>
/// One Wasmtime <see cref="Engine"/> shared by every strategy instance, configured for fuel (a deterministic
/// budget per call) and epoch interruption (a wall-clock deadline per call), plus the background ticker that
/// advances the epoch. Compiled modules belong to an engine, so create one per process and keep it.
/// Compiling is bounded too: at most <see cref="CompileSlots"/> modules compile at once, each on one core, and a
/// caller waits at most <see cref="CompileTimeout"/> for the result. Wasmtime cannot interrupt a compile, so one
/// that overruns finishes in the background holding its slot; <see cref="Validation.ModuleShapeLimits"/> keep
/// that rare and short.
/// </summary>
public sealed class StrategyEngine : IDisposable
{
    private static readonly Lazy<StrategyEngine> SharedInstance = new(() => new StrategyEngine());

    private readonly Timer _ticker;
    private readonly Lock _gate = new();
    private bool _disposed;

    private readonly SemaphoreSlim _compileSlots;

    public StrategyEngine() : this(TimeSpan.FromMilliseconds(5))
    {
    }

    /// <param name="epochTick">How often the epoch advances; deadlines are whole ticks, so this is their resolution.</param>
    /// <param name="compileTimeout">Longest a caller waits for a compile (slot wait included); 10 s when null.</param>
    /// <param name="compileSlots">Modules compiled at once (each on one core).</param>
    public StrategyEngine(TimeSpan epochTick, TimeSpan? compileTimeout = null, int compileSlots = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(epochTick, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(compileSlots, 1);
        EpochTick = epochTick;
        CompileTimeout = compileTimeout ?? TimeSpan.FromSeconds(10);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(CompileTimeout, TimeSpan.Zero);
        CompileSlots = compileSlots;
        _compileSlots = new SemaphoreSlim(compileSlots, compileSlots);
        using var config = new Config()
            .WithFuelConsumption(true)
            .WithEpochInterruption(true)
            // Threads, SIMD-relaxed and memory64 make behaviour depend on the machine or make the ABI's i32
            // pointers ambiguous; a strategy needs none of them.
            .WithWasmThreads(false)
            .WithRelaxedSIMD(false, false)
            .WithMemory64(false)
            // Proposals whose runtime structures the store limits do not cover (a GC heap, exception state) or
            // that the shape check does not read; the ABI needs none of them (stack switching is off by default).
            .WithGc(false)
            .WithFunctionReferences(false)
            .WithExceptions(false)
            .WithTailCalls(false)
            .WithComponentModel(false)
            // One core per compile, so CompileSlots bounds the cores compiling takes.
            .WithParallelCompilation(false);
        Engine = new Engine(config);
        // A thread-pool timer rather than a dedicated thread: incrementing the epoch is one atomic add.
        _ticker = new Timer(static state => ((StrategyEngine)state!).Tick(), this, epochTick, epochTick);
    }

    /// <summary>A process-wide engine for callers that do not manage their own (never disposed).</summary>
    public static StrategyEngine Shared => SharedInstance.Value;

    public Engine Engine { get; }

    public TimeSpan EpochTick { get; }

    /// <summary>Longest a load waits for its module to compile, waiting for a free slot included.</summary>
    public TimeSpan CompileTimeout { get; }

    /// <summary>Modules that compile at the same time.</summary>
    public int CompileSlots { get; }

    /// <summary>
    /// Runs <paramref name="compile"/> on a compile slot; null with <paramref name="refusal"/> when it did not
    /// finish within <see cref="CompileTimeout"/>. Wasmtime's own exceptions (an invalid module) are rethrown.
    /// </summary>
    internal Module? Compile(Func<Module> compile, out string? refusal)
    {
        var started = TimeProvider.System.GetTimestamp();
        if (!_compileSlots.Wait(CompileTimeout))
        {
            refusal = $"No compile slot became free within {CompileTimeout.TotalSeconds:0.###} s ({CompileSlots} modules compile at once); try again later.";
            return null;
        }
        Task<Module> task;
        try
        {
            task = Task.Factory.StartNew(() =>
            {
                try
                {
                    return compile();
                }
                finally
                {
                    _compileSlots.Release();
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        catch
        {
            _compileSlots.Release();
            throw;
        }
        var remaining = CompileTimeout - TimeProvider.System.GetElapsedTime(started);
        if (remaining <= TimeSpan.Zero || !((IAsyncResult)task).AsyncWaitHandle.WaitOne(remaining))
        {
            // Not cancellable: let it finish on its slot and free what it made.
            _ = task.ContinueWith(static t =>
            {
                if (t.IsCompletedSuccessfully)
                {
                    t.Result.Dispose();
                }
            }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            refusal = $"Compiling the module took longer than {CompileTimeout.TotalSeconds:0.###} s.";
            return null;
        }
        if (task.Exception is { } failed)
        {
            ExceptionDispatchInfo.Throw(failed.InnerException ?? failed);
        }
        refusal = null;
        return task.Result;
    }

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
