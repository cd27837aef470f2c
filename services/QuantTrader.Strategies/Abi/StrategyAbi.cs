using Wasmtime;

namespace QuantTrader.Strategies.Abi;

/// <summary>
/// The strategy ABI, version 1: the names and signatures a module exports and imports. This file is the
/// single source of truth; docs/strategy-abi.md explains it and the validator and sandbox enforce it.
/// </summary>
public static class StrategyAbi
{
    public const int Version = 1;

    public const string HostModule = "qt";

    public static class Exports
    {
        public const string AbiVersion = "qt_abi_version";
        public const string Memory = "memory";
        public const string Alloc = "alloc";
        public const string Init = "init";
        public const string OnKline = "on_kline";
        public const string OnFill = "on_fill";
    }

    public static class Imports
    {
        public const string PlaceOrder = "place_order";
        public const string CancelOrder = "cancel_order";
        public const string Position = "position";
        public const string QuoteBalance = "quote_balance";
        public const string Log = "log";

        /// <summary>AssemblyScript's runtime calls <c>env.abort(msg, file, line, column)</c> on a failed assertion or
        /// allocation; the host turns it into a trap with the message.</summary>
        public const string AbortModule = "env";
        public const string Abort = "abort";
    }

    /// <summary>Values of <c>side</c> in <c>place_order</c>; equal to <see cref="QuantTrader.Contracts.Trading.OrderSide"/>.</summary>
    public const int SideBuy = 0;
    public const int SideSell = 1;

    /// <summary>Values of <c>type</c> in <c>place_order</c>. Only market and limit orders exist in v1.</summary>
    public const int TypeMarket = 0;
    public const int TypeLimit = 1;

    /// <summary>Every import a v1 module may declare, with its exact signature.</summary>
    public static IReadOnlyList<FunctionSignature> AllowedImports { get; } =
    [
        new(HostModule, Imports.PlaceOrder, [ValueKind.Int32, ValueKind.Int32, ValueKind.Float64, ValueKind.Float64], [ValueKind.Int64]),
        new(HostModule, Imports.CancelOrder, [ValueKind.Int64], [ValueKind.Int32]),
        new(HostModule, Imports.Position, [], [ValueKind.Float64]),
        new(HostModule, Imports.QuoteBalance, [], [ValueKind.Float64]),
        new(HostModule, Imports.Log, [ValueKind.Int32, ValueKind.Int32], []),
        new(Imports.AbortModule, Imports.Abort, [ValueKind.Int32, ValueKind.Int32, ValueKind.Int32, ValueKind.Int32], []),
    ];

    /// <summary>Function exports with their exact signatures; <c>Required</c> ones must be present.</summary>
    public static IReadOnlyList<(FunctionSignature Signature, bool Required)> FunctionExports { get; } =
    [
        (new("", Exports.OnKline,
            [ValueKind.Int64, ValueKind.Float64, ValueKind.Float64, ValueKind.Float64, ValueKind.Float64, ValueKind.Float64],
            [ValueKind.Int32]), true),
        (new("", Exports.Init, [ValueKind.Int32, ValueKind.Int32], [ValueKind.Int32]), false),
        (new("", Exports.Alloc, [ValueKind.Int32], [ValueKind.Int32]), false),
        (new("", Exports.OnFill,
            [ValueKind.Int64, ValueKind.Int32, ValueKind.Float64, ValueKind.Float64, ValueKind.Float64],
            [ValueKind.Int32]), false),
    ];
}

/// <summary>A function's module, name and exact wasm signature.</summary>
public sealed record FunctionSignature(string Module, string Name, IReadOnlyList<ValueKind> Parameters, IReadOnlyList<ValueKind> Results)
{
    public string QualifiedName => Module.Length == 0 ? Name : $"{Module}.{Name}";

    public bool Matches(IReadOnlyList<ValueKind> parameters, IReadOnlyList<ValueKind> results) =>
        parameters.SequenceEqual(Parameters) && results.SequenceEqual(Results);

    public override string ToString() => $"{QualifiedName}{Describe(Parameters, Results)}";

    public static string Describe(IReadOnlyList<ValueKind> parameters, IReadOnlyList<ValueKind> results) =>
        $"({string.Join(", ", parameters.Select(Short))}) -> {(results.Count == 0 ? "()" : string.Join(", ", results.Select(Short)))}";

    private static string Short(ValueKind kind) => kind switch
    {
        ValueKind.Int32 => "i32",
        ValueKind.Int64 => "i64",
        ValueKind.Float32 => "f32",
        ValueKind.Float64 => "f64",
        ValueKind.V128 => "v128",
        _ => kind.ToString(),
    };
}

/// <summary>Negative results of <c>place_order</c> (and 0 from <c>cancel_order</c>); stable across v1.</summary>
public static class StrategyErrorCodes
{
    /// <summary>Bad side or type, quantity not positive/finite, limit price not positive/finite, or nothing left after rounding to the step.</summary>
    public const long InvalidArgument = -1;

    /// <summary>More orders in this call than <see cref="Sandbox.StrategySandboxOptions.MaxOrdersPerCall"/>.</summary>
    public const long RateLimited = -2;

    /// <summary>The host (risk, balance, the order path) refused the order.</summary>
    public const long Rejected = -3;

    /// <summary>Orders cannot be placed from <c>init</c> (no market data has been seen yet).</summary>
    public const long NotAllowedNow = -4;

    /// <summary>The host failed internally; the strategy may retry on a later kline.</summary>
    public const long HostError = -5;
}
