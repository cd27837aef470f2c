using System.Text;
using QuantTrader.Strategies.Abi;
using QuantTrader.Strategies.Validation;
using Wasmtime;

namespace QuantTrader.Strategies.Sandbox;

/// <summary>
/// A validated, compiled strategy module. Compiling is the expensive step (milliseconds), so the runner loads a
/// module once and creates any number of <see cref="StrategySandbox"/> instances from it.
/// </summary>
public sealed class StrategyModule : IDisposable
{
    private static readonly byte[] WasmMagic = [0x00, 0x61, 0x73, 0x6d];

    private StrategyModule(StrategyEngine engine, Module module)
    {
        Engine = engine;
        Module = module;
        var exports = module.Exports.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        HasInit = exports.Contains(StrategyAbi.Exports.Init);
        HasAlloc = exports.Contains(StrategyAbi.Exports.Alloc);
        HasOnFill = exports.Contains(StrategyAbi.Exports.OnFill);
        MinimumMemoryBytes = module.Exports.OfType<MemoryExport>()
            .Where(m => m.Name == StrategyAbi.Exports.Memory)
            .Select(m => m.Minimum * Memory.PageSize)
            .FirstOrDefault();
    }

    public StrategyEngine Engine { get; }

    internal Module Module { get; }

    public bool HasInit { get; }

    public bool HasAlloc { get; }

    public bool HasOnFill { get; }

    public long MinimumMemoryBytes { get; }

    /// <summary>Loads a binary module, or WAT text given as UTF-8 bytes. Throws <see cref="StrategyValidationException"/> when invalid.</summary>
    public static StrategyModule Load(byte[] bytes, StrategyEngine? engine = null, int maxBytes = StrategyModuleValidator.DefaultMaxBytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return TryLoad(bytes, engine ?? StrategyEngine.Shared, maxBytes, out var errors)
            ?? throw new StrategyValidationException(errors);
    }

    /// <summary>Loads WAT text. Throws <see cref="StrategyValidationException"/> when invalid.</summary>
    public static StrategyModule LoadText(string wat, StrategyEngine? engine = null, int maxBytes = StrategyModuleValidator.DefaultMaxBytes)
    {
        ArgumentNullException.ThrowIfNull(wat);
        return TryLoadText(wat, engine ?? StrategyEngine.Shared, maxBytes, out var errors)
            ?? throw new StrategyValidationException(errors);
    }

    /// <summary>Validates and compiles; returns null with the reasons when the module is not a v1 strategy.</summary>
    public static StrategyModule? TryLoad(byte[] bytes, StrategyEngine engine, int maxBytes, out IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(engine);
        if (bytes.Length > maxBytes)
        {
            errors = [$"Module is {bytes.Length} bytes; the limit is {maxBytes} bytes."];
            return null;
        }
        if (bytes.AsSpan().StartsWith(WasmMagic))
        {
            return Compile(engine, bytes, out errors);
        }
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            errors = ["Not a WebAssembly module: no binary header (\\0asm) and not UTF-8 WAT text."];
            return null;
        }
        return CompileText(engine, text, out errors);
    }

    /// <summary>Validates and compiles WAT text; returns null with the reasons when it is not a v1 strategy.</summary>
    public static StrategyModule? TryLoadText(string wat, StrategyEngine engine, int maxBytes, out IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(wat);
        ArgumentNullException.ThrowIfNull(engine);
        var size = Encoding.UTF8.GetByteCount(wat);
        if (size > maxBytes)
        {
            errors = [$"Module text is {size} bytes; the limit is {maxBytes} bytes."];
            return null;
        }
        return CompileText(engine, wat, out errors);
    }

    private static StrategyModule? CompileText(StrategyEngine engine, string text, out IReadOnlyList<string> errors)
    {
        if (!text.TrimStart().StartsWith('(') && !text.TrimStart().StartsWith(";;", StringComparison.Ordinal))
        {
            errors = ["Not a WebAssembly module: no binary header (\\0asm) and the text does not look like WAT."];
            return null;
        }
        byte[] binary;
        try
        {
            // WAT → binary is linear in the text; the shape check and the compile then see the same bytes.
            binary = Module.ConvertText(text);
        }
        catch (WasmtimeException ex)
        {
            errors = [$"Not a valid WebAssembly module: {WasmErrorText.Cause(ex.Message)}"];
            return null;
        }
        return Compile(engine, binary, out errors);
    }

    private static StrategyModule? Compile(StrategyEngine engine, byte[] binary, out IReadOnlyList<string> errors)
    {
        var shape = ModuleShape.Check(binary, ModuleShapeLimits.Default);
        if (shape.Count > 0)
        {
            errors = shape;
            return null;
        }
        Module? module;
        string? refusal;
        try
        {
            module = engine.Compile(() => Module.FromBytes(engine.Engine, "strategy", binary), out refusal);
        }
        catch (WasmtimeException ex)
        {
            errors = [$"Not a valid WebAssembly module: {WasmErrorText.Cause(ex.Message)}"];
            return null;
        }
        if (module is null)
        {
            errors = [refusal!];
            return null;
        }

        var problems = CheckImports(module).Concat(CheckExports(module)).ToList();
        if (problems.Count == 0)
        {
            problems.AddRange(CheckAbiVersion(engine, module));
        }
        if (problems.Count > 0)
        {
            module.Dispose();
            errors = problems;
            return null;
        }
        errors = [];
        return new StrategyModule(engine, module);
    }

    private static IEnumerable<string> CheckImports(Module module)
    {
        var allowed = string.Join(", ", StrategyAbi.AllowedImports.Select(s => s.QualifiedName));
        foreach (var import in module.Imports)
        {
            var name = $"{import.ModuleName}.{import.Name}";
            var expected = StrategyAbi.AllowedImports.FirstOrDefault(s => s.Module == import.ModuleName && s.Name == import.Name);
            if (expected is null)
            {
                yield return $"Import {name} is not part of strategy ABI v{StrategyAbi.Version}; a strategy may import only {allowed}.";
            }
            else if (import is not FunctionImport function)
            {
                yield return $"Import {name} must be a function {expected}.";
            }
            else if (!expected.Matches(function.Parameters, function.Results))
            {
                yield return $"Import {name} has signature {FunctionSignature.Describe(function.Parameters, function.Results)}; ABI v{StrategyAbi.Version} defines it as {FunctionSignature.Describe(expected.Parameters, expected.Results)}.";
            }
        }
    }

    private static IEnumerable<string> CheckExports(Module module)
    {
        var exports = module.Exports.ToDictionary(e => e.Name, StringComparer.Ordinal);

        if (!exports.TryGetValue(StrategyAbi.Exports.Memory, out var memory))
        {
            yield return "Missing export: memory (the module's linear memory, exported as \"memory\").";
        }
        else if (memory is not MemoryExport m)
        {
            yield return "Export memory must be a linear memory.";
        }
        else if (m.Is64Bit)
        {
            yield return "Export memory must be a 32-bit memory (memory64 is not supported).";
        }

        if (!exports.TryGetValue(StrategyAbi.Exports.AbiVersion, out var version))
        {
            yield return $"Missing export: {StrategyAbi.Exports.AbiVersion} (a function () -> i32 or an immutable i32 global that returns {StrategyAbi.Version}).";
        }
        else if (version is FunctionExport vf && !(vf.Parameters.Count == 0 && vf.Results.SequenceEqual([ValueKind.Int32])))
        {
            yield return $"Export {StrategyAbi.Exports.AbiVersion} must be () -> i32, not {FunctionSignature.Describe(vf.Parameters, vf.Results)}.";
        }
        else if (version is GlobalExport vg && vg.Kind != ValueKind.Int32)
        {
            yield return $"Export {StrategyAbi.Exports.AbiVersion} must be an i32 global.";
        }
        else if (version is not FunctionExport and not GlobalExport)
        {
            yield return $"Export {StrategyAbi.Exports.AbiVersion} must be a function or a global.";
        }

        foreach (var (signature, required) in StrategyAbi.FunctionExports)
        {
            if (!exports.TryGetValue(signature.Name, out var export))
            {
                if (required)
                {
                    yield return $"Missing export: {signature}.";
                }
                continue;
            }
            if (export is not FunctionExport f)
            {
                yield return $"Export {signature.Name} must be a function {signature}.";
            }
            else if (!signature.Matches(f.Parameters, f.Results))
            {
                yield return $"Export {signature.Name} has signature {FunctionSignature.Describe(f.Parameters, f.Results)}; ABI v{StrategyAbi.Version} defines it as {FunctionSignature.Describe(signature.Parameters, signature.Results)}.";
            }
        }

        if (exports.ContainsKey(StrategyAbi.Exports.Init) && !exports.ContainsKey(StrategyAbi.Exports.Alloc))
        {
            yield return "Export init needs export alloc(len i32) -> i32 so the host can write the parameters into the module's memory.";
        }
    }

    private static IEnumerable<string> CheckAbiVersion(StrategyEngine engine, Module module)
    {
        // A throwaway store: small budgets, and every import traps, so validating runs nothing that could act.
        using var store = new Store(engine.Engine);
        using var linker = new Linker(engine.Engine);
        // The same limits as a running strategy: instantiating must not be a way around them.
        StrategySandboxOptions.Default.ApplyLimits(store);
        store.Fuel = 1_000_000;
        store.SetEpochDeadline(engine.TicksFor(TimeSpan.FromSeconds(1)));
        linker.DefineUnknownImportsAsTraps(module);

        int declared;
        try
        {
            var instance = linker.Instantiate(store, module);
            if (instance.GetFunction<int>(StrategyAbi.Exports.AbiVersion) is { } function)
            {
                declared = function();
            }
            else if (instance.GetGlobal(StrategyAbi.Exports.AbiVersion)?.GetValue() is int value)
            {
                declared = value;
            }
            else
            {
                return [$"Export {StrategyAbi.Exports.AbiVersion} could not be read."];
            }
        }
        catch (WasmtimeException ex)
        {
            return [$"The module failed while declaring its ABI version (start function or {StrategyAbi.Exports.AbiVersion}): {WasmErrorText.Cause(ex.Message)}"];
        }

        return declared == StrategyAbi.Version
            ? []
            : [$"The module targets strategy ABI version {declared}; this host supports version {StrategyAbi.Version}."];
    }

    public void Dispose() => Module.Dispose();
}
