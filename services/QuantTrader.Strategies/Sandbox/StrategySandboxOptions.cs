using Wasmtime;

namespace QuantTrader.Strategies.Sandbox;

/// <summary>Resource limits for one strategy instance. Every budget applies per call into the strategy.</summary>
public sealed record StrategySandboxOptions
{
    public static StrategySandboxOptions Default { get; } = new();

    /// <summary>Largest the module's linear memory may grow to; <c>memory.grow</c> beyond it returns −1.</summary>
    public long MemoryLimitBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// Largest a table may be, declared or grown (<c>table.grow</c> beyond it returns −1). A table element is a
    /// pointer-sized function reference, so 10,000 is under 100 KB; AssemblyScript tables hold a few dozen.
    /// </summary>
    public uint TableElementsLimit { get; init; } = 10_000;

    /// <summary>
    /// Applies the per-instance limits to a fresh store: one instance with one memory and one table, bounded as
    /// above, so a strategy's Wasm state is at most <see cref="MemoryLimitBytes"/> plus its table.
    /// </summary>
    public void ApplyLimits(Store store)
    {
        ArgumentNullException.ThrowIfNull(store);
        store.SetLimits(memorySize: MemoryLimitBytes, tableElements: TableElementsLimit, instances: 1, tables: 1, memories: 1);
    }

    /// <summary>
    /// Fuel (≈ wasm instructions) for one call. Deterministic: the same strategy on the same input runs out at the
    /// same instruction on any machine, which is what makes a backtest's fault reproducible. The SMA example uses
    /// a few thousand per kline.
    /// </summary>
    public ulong FuelPerCall { get; init; } = 10_000_000;

    /// <summary>Wall-clock deadline for one call, enforced by the engine's epoch ticker (resolution one tick).</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Orders that reach the host per call; more get <c>RateLimited</c> (−2) without reaching it.</summary>
    public int MaxOrdersPerCall { get; init; } = 4;

    /// <summary>Cancels that reach the host per call; more return 0.</summary>
    public int MaxCancelsPerCall { get; init; } = 16;

    /// <summary>Log lines passed on per call; the rest are dropped and counted in one summary line.</summary>
    public int MaxLogsPerCall { get; init; } = 8;

    /// <summary>Longest log line, in UTF-8 bytes; longer ones are cut.</summary>
    public int MaxLogBytes { get; init; } = 1024;

    /// <summary>Largest parameters JSON, in UTF-8 bytes.</summary>
    public int MaxParametersBytes { get; init; } = 64 * 1024;

    /// <summary>Tick and step of the instrument, to round the strategy's f64 prices and quantities.</summary>
    public InstrumentFilters Instrument { get; init; } = InstrumentFilters.Unrestricted;
}
