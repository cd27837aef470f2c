using System.Text;
using QuantTrader.Strategies.Sandbox;
using QuantTrader.Strategies.Validation;
using Xunit;

namespace QuantTrader.Strategies.Tests;

/// <summary>Everything a module can grow is bounded: tables, memories, instances, module size, code shape and compile time.</summary>
public sealed class SandboxLimitTests
{
    /// <summary>A valid strategy with extra module fields and an <c>on_kline</c> body.</summary>
    private static string Strategy(string parts, string onKline = "(i32.const 0)") => $$"""
        (module
          {{parts}}
          (func (export "qt_abi_version") (result i32) (i32.const 1))
          (func (export "on_kline") (param i64 f64 f64 f64 f64 f64) (result i32) {{onKline}}))
        """;

    private static StrategySandbox Start(string wat)
    {
        using var module = StrategyModule.LoadText(wat);
        return StrategySandbox.Create(module, new RecordingHost(), "{}");
    }

    [Fact]
    public void Table_grow_by_a_hundred_million_is_refused_and_the_table_stays_within_its_limit()
    {
        using var sandbox = Start(Strategy("""(memory (export "memory") 1) (table $t 1 funcref)""",
            "(drop (table.grow $t (ref.null func) (i32.const 100000000))) (table.size $t)"));

        var result = sandbox.OnKline(0, 1, 1, 1, 1, 1);

        // table.grow answered −1 (the wasm way of "no"), the table kept its one element, the strategy runs on.
        Assert.Equal(StrategyCallStatus.Ok, result.Status);
        Assert.Equal(1, result.ReturnCode);
        Assert.Equal(StrategyInstanceState.Running, sandbox.State);
    }

    [Fact]
    public void Table_grow_up_to_the_limit_succeeds_and_one_more_element_does_not()
    {
        var limit = (int)StrategySandboxOptions.Default.TableElementsLimit;
        using var sandbox = Start(Strategy("""(memory (export "memory") 1) (table $t 1 funcref)""",
            $"(drop (table.grow $t (ref.null func) (i32.const {limit - 1}))) (drop (table.grow $t (ref.null func) (i32.const 1))) (table.size $t)"));

        Assert.Equal(limit, sandbox.OnKline(0, 1, 1, 1, 1, 1).ReturnCode);
    }

    [Fact]
    public void A_declared_table_over_the_limit_is_refused_at_upload()
    {
        var wat = Strategy("""(memory (export "memory") 1) (table 100000000 funcref)""");

        // It compiles (a table is only made when instantiated); the validator's trial store refuses to make it.
        var error = Assert.Single(StrategyModuleValidator.Validate(wat).Errors);

        Assert.Contains("table minimum size of 100000000 elements exceeds table limits", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_table_is_refused()
    {
        var errors = StrategyModuleValidator.Validate(Strategy("""(memory (export "memory") 1) (table 1 funcref) (table 1 funcref)""")).Errors;

        Assert.Contains("table count too high", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_memory_is_refused()
    {
        var errors = StrategyModuleValidator.Validate(Strategy("""(memory (export "memory") 1) (memory 1)""")).Errors;

        Assert.Contains("memory count too high", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public void A_declared_memory_over_the_limit_is_refused_at_upload()
    {
        var pages = StrategySandboxOptions.Default.MemoryLimitBytes / 65536 + 1;

        var errors = StrategyModuleValidator.Validate(Strategy($"""(memory (export "memory") {pages})""")).Errors;

        Assert.Contains("memory", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public void A_sandbox_start_over_a_table_limit_faults_with_memory_naming_the_limits()
    {
        using var module = StrategyModule.LoadText(Strategy("""(memory (export "memory") 1) (table 100 funcref)"""));

        using var sandbox = StrategySandbox.Create(module, new RecordingHost(), "{}", StrategySandboxOptions.Default with { TableElementsLimit = 10 });

        Assert.Equal(StrategyInstanceState.Faulted, sandbox.State);
        Assert.Equal(StrategyFaultReason.Memory, sandbox.Fault!.Reason);
        Assert.Equal("instantiate", sandbox.Fault.Call);
        Assert.Contains("tables of 10 elements", sandbox.Fault.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_gc_proposal_is_not_available_to_strategies()
    {
        var errors = StrategyModuleValidator.Validate(Strategy("""(memory (export "memory") 1) (type $bytes (array (mut i8)))""",
            "(drop (array.new_default $bytes (i32.const 100000000))) (i32.const 0)")).Errors;

        Assert.StartsWith("Not a valid WebAssembly module", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public void More_functions_than_the_limit_are_refused_before_compiling()
    {
        var functions = string.Concat(Enumerable.Repeat("(func) ", ModuleShapeLimits.Default.MaxFunctions));

        var errors = StrategyModuleValidator.Validate(Strategy($"""(memory (export "memory") 1) {functions}""")).Errors;

        Assert.Equal($"The module defines {ModuleShapeLimits.Default.MaxFunctions + 2} functions; the limit is {ModuleShapeLimits.Default.MaxFunctions}.",
            Assert.Single(errors));
    }

    [Fact]
    public void More_code_than_the_limit_is_refused_before_compiling()
    {
        // 7 bytes per repetition: comfortably over 256 KiB of code in one function (sent as binary: the text is over 1 MiB).
        var body = new StringBuilder();
        for (var i = 0; i < 40_000; i++)
        {
            body.Append("(local.set 0 (i32.add (local.get 0) (local.get 0))) ");
        }

        var errors = StrategyModuleValidator.Validate(Module(Strategy($"""(memory (export "memory") 1) (func (param i32) {body})"""))).Errors;

        Assert.Matches(@"^The module's code is \d+ bytes; the limit is 262144 bytes\.$", Assert.Single(errors));
    }

    [Fact]
    public void Nesting_deeper_than_the_limit_is_refused_before_compiling()
    {
        // 40,000 nested ifs took Cranelift 296 s to compile; 200 is enough to show the bound.
        var depth = 200;
        var nested = string.Concat(Enumerable.Repeat("(if (local.get 0) (then ", depth)) + "(local.set 0 (i32.const 1))" + new string(')', depth * 2);

        var errors = StrategyModuleValidator.Validate(Strategy($"""(memory (export "memory") 1) (func (param i32) {nested})""")).Errors;

        Assert.Equal($"Function 0 nests blocks, loops and ifs {depth} deep; the limit is {ModuleShapeLimits.Default.MaxControlDepth}.", Assert.Single(errors));
    }

    [Fact]
    public void The_examples_are_well_within_the_shape_limits()
    {
        foreach (var module in new[] { Strategies.SmaCrossover, Strategies.RsiMeanReversion, Module(Strategies.SmaCrossoverWat) })
        {
            Assert.Empty(ModuleShape.Check(module, ModuleShapeLimits.Default with { MaxFunctions = 100, MaxCodeBytes = 32 * 1024, MaxControlDepth = 32 }));
        }
    }

    [Fact]
    public void A_compile_longer_than_the_engine_allows_is_refused_naming_the_bound()
    {
        using var engine = new StrategyEngine(TimeSpan.FromMilliseconds(5), compileTimeout: TimeSpan.FromMilliseconds(1), compileSlots: 1);
        // Within every shape limit, yet far more than a millisecond of compiling: 100 functions of branchy code.
        var functions = new StringBuilder();
        for (var f = 0; f < 100; f++)
        {
            functions.Append("(func (param i32) (result i32) ");
            for (var i = 0; i < 200; i++)
            {
                functions.Append("(if (local.get 0) (then (local.set 0 (i32.const 1)))) ");
            }
            functions.Append("(local.get 0)) ");
        }

        var errors = StrategyModuleValidator.Validate(Module(Strategy($"""(memory (export "memory") 1) {functions}""")), StrategyModuleValidator.DefaultMaxBytes, engine).Errors;

        Assert.Equal("Compiling the module took longer than 0.001 s.", Assert.Single(errors));
    }

    [Fact]
    public void A_refused_compile_is_the_bound_and_not_the_module()
    {
        using var engine = new StrategyEngine(TimeSpan.FromMilliseconds(5), compileTimeout: TimeSpan.FromMilliseconds(1), compileSlots: 1);
        using var patient = new StrategyEngine(TimeSpan.FromMilliseconds(5), compileSlots: 1);
        var slow = Strategy("""(memory (export "memory") 1) """ + string.Concat(Enumerable.Repeat(
            "(func (param i32) (result i32) " + string.Concat(Enumerable.Repeat("(if (local.get 0) (then (local.set 0 (i32.const 1)))) ", 200)) + "(local.get 0)) ", 50)));
        Assert.Single(StrategyModuleValidator.Validate(slow, StrategyModuleValidator.DefaultMaxBytes, engine).Errors);

        // The same slow module on an engine that waits compiles fine: the refusal was the bound, not the module.
        Assert.True(StrategyModuleValidator.Validate(slow, StrategyModuleValidator.DefaultMaxBytes, patient).IsValid);
    }

    private static byte[] Module(string wat) => Wasmtime.Module.ConvertText(wat);
}
