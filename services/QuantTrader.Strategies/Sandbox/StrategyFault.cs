namespace QuantTrader.Strategies.Sandbox;

public enum StrategyInstanceState
{
    /// <summary>Initialised and accepting klines.</summary>
    Running,

    /// <summary>Stopped by a fault; see <see cref="StrategySandbox.Fault"/>. Never runs again.</summary>
    Faulted,

    Disposed,
}

/// <summary>Why an instance stopped.</summary>
public enum StrategyFaultReason
{
    /// <summary>A wasm trap (unreachable, out-of-bounds access, division by zero, stack overflow, AssemblyScript abort, bad pointer to the host).</summary>
    Trap,

    /// <summary>Used up <see cref="StrategySandboxOptions.FuelPerCall"/> in one call.</summary>
    Fuel,

    /// <summary>Failed while its memory was at <see cref="StrategySandboxOptions.MemoryLimitBytes"/>, or needs more than that to start.</summary>
    Memory,

    /// <summary>Ran past <see cref="StrategySandboxOptions.CallTimeout"/> in one call.</summary>
    Timeout,

    /// <summary><c>init</c> returned non-zero (the strategy refused its parameters), or the parameters were too large.</summary>
    InitFailed,
}

/// <param name="Call">The ABI function that was running: init, on_kline, on_fill, or instantiate.</param>
public sealed record StrategyFault(StrategyFaultReason Reason, string Message, string Call);

public enum StrategyCallStatus
{
    Ok,

    /// <summary>This call faulted the instance.</summary>
    Faulted,

    /// <summary>The instance was already faulted or disposed; nothing ran.</summary>
    NotRunning,
}

/// <param name="ReturnCode">What the strategy function returned (0 = fine; the value is informational).</param>
/// <param name="FuelUsed">Fuel the call consumed, deterministic for the same module, state and input.</param>
public readonly record struct StrategyCallResult(StrategyCallStatus Status, int ReturnCode, ulong FuelUsed);
