using QuantTrader.Strategies.Sandbox;

namespace QuantTrader.Strategies.Validation;

/// <summary>
/// Checks an uploaded strategy before it is stored: size, that it is WebAssembly (binary or WAT text), that its
/// imports are exactly the ABI's host API, that its exports have the ABI's names and signatures, and that it
/// declares ABI version 1. Runs no strategy code except the module's start function and <c>qt_abi_version</c>,
/// both under a small fuel budget in a throwaway store whose imports all trap.
/// </summary>
public static class StrategyModuleValidator
{
    /// <summary>1 MiB: the AssemblyScript examples are ~15 KB; anything near this is not a trading strategy.</summary>
    public const int DefaultMaxBytes = 1024 * 1024;

    public static StrategyValidationResult Validate(byte[] module, int maxBytes = DefaultMaxBytes) =>
        Validate(module, maxBytes, StrategyEngine.Shared);

    public static StrategyValidationResult Validate(string wat, int maxBytes = DefaultMaxBytes) =>
        Validate(wat, maxBytes, StrategyEngine.Shared);

    public static StrategyValidationResult Validate(byte[] module, int maxBytes, StrategyEngine engine)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var loaded = StrategyModule.TryLoad(module, engine, maxBytes, out var errors);
        return errors.Count == 0 ? StrategyValidationResult.Valid : new StrategyValidationResult(errors);
    }

    public static StrategyValidationResult Validate(string wat, int maxBytes, StrategyEngine engine)
    {
        ArgumentNullException.ThrowIfNull(wat);
        using var loaded = StrategyModule.TryLoadText(wat, engine, maxBytes, out var errors);
        return errors.Count == 0 ? StrategyValidationResult.Valid : new StrategyValidationResult(errors);
    }
}
