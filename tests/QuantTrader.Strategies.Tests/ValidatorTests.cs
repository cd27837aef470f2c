using System.Text;
using QuantTrader.Strategies.Sandbox;
using QuantTrader.Strategies.Validation;
using Xunit;

namespace QuantTrader.Strategies.Tests;

public sealed class ValidatorTests
{
    private const string Minimal = """
        (module
          (memory (export "memory") 1)
          (func (export "qt_abi_version") (result i32) (i32.const 1))
          (func (export "on_kline") (param i64 f64 f64 f64 f64 f64) (result i32) (i32.const 0)))
        """;

    [Fact]
    public void Examples_are_valid()
    {
        Assert.True(StrategyModuleValidator.Validate(Strategies.SmaCrossover).IsValid);
        Assert.True(StrategyModuleValidator.Validate(Strategies.RsiMeanReversion).IsValid);
        Assert.True(StrategyModuleValidator.Validate(Strategies.BuyAndHold).IsValid);
        Assert.True(StrategyModuleValidator.Validate(Minimal).IsValid);
        // WAT uploaded as a file arrives as bytes.
        Assert.True(StrategyModuleValidator.Validate(Encoding.UTF8.GetBytes(Strategies.BuyAndHold)).IsValid);
    }

    [Fact]
    public void Forbidden_import_is_refused_naming_the_import()
    {
        var result = StrategyModuleValidator.Validate(Strategies.Hostile("forbidden-import"));

        Assert.False(result.IsValid);
        var error = Assert.Single(result.Errors);
        Assert.Contains("wasi_snapshot_preview1.environ_get", error, StringComparison.Ordinal);
        Assert.Contains("not part of strategy ABI v1", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Allowed_import_with_the_wrong_signature_is_refused()
    {
        const string wat = """
            (module
              (import "qt" "place_order" (func (param i32 f64) (result i64)))
              (memory (export "memory") 1)
              (func (export "qt_abi_version") (result i32) (i32.const 1))
              (func (export "on_kline") (param i64 f64 f64 f64 f64 f64) (result i32) (i32.const 0)))
            """;
        var error = Assert.Single(StrategyModuleValidator.Validate(wat).Errors);
        Assert.Contains("qt.place_order has signature (i32, f64) -> i64", error, StringComparison.Ordinal);
        Assert.Contains("(i32, i32, f64, f64) -> i64", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Imported_memory_is_refused()
    {
        const string wat = """
            (module
              (import "env" "memory" (memory 1))
              (func (export "qt_abi_version") (result i32) (i32.const 1))
              (func (export "on_kline") (param i64 f64 f64 f64 f64 f64) (result i32) (i32.const 0)))
            """;
        var errors = StrategyModuleValidator.Validate(wat).Errors;
        Assert.Contains(errors, e => e.Contains("env.memory", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Missing export: memory", StringComparison.Ordinal));
    }

    [Fact]
    public void Wrong_abi_version_is_refused()
    {
        var wat = Minimal.Replace("(i32.const 1))", "(i32.const 2))", StringComparison.Ordinal);
        var error = Assert.Single(StrategyModuleValidator.Validate(wat).Errors);
        Assert.Equal("The module targets strategy ABI version 2; this host supports version 1.", error);
    }

    [Fact]
    public void Abi_version_may_be_an_exported_global()
    {
        const string template = """
            (module
              (memory (export "memory") 1)
              (global (export "qt_abi_version") i32 (i32.const VERSION))
              (func (export "on_kline") (param i64 f64 f64 f64 f64 f64) (result i32) (i32.const 0)))
            """;
        Assert.True(StrategyModuleValidator.Validate(template.Replace("VERSION", "1", StringComparison.Ordinal)).IsValid);
        Assert.Contains("version 3", Assert.Single(StrategyModuleValidator.Validate(template.Replace("VERSION", "3", StringComparison.Ordinal)).Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_exports_are_listed()
    {
        const string wat = "(module (func (export \"on_kline\") (param i64 f64) (result i32) (i32.const 0)))";
        var errors = StrategyModuleValidator.Validate(wat).Errors;

        Assert.Contains(errors, e => e.StartsWith("Missing export: memory", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Missing export: qt_abi_version", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Export on_kline has signature (i64, f64) -> i32", StringComparison.Ordinal));
    }

    [Fact]
    public void Init_without_alloc_is_refused()
    {
        var wat = Minimal.Replace("(memory", "(func (export \"init\") (param i32 i32) (result i32) (i32.const 0)) (memory", StringComparison.Ordinal);
        Assert.Contains("needs export alloc", Assert.Single(StrategyModuleValidator.Validate(wat).Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Oversized_module_is_refused()
    {
        var result = StrategyModuleValidator.Validate(Strategies.SmaCrossover, maxBytes: 1000);
        Assert.StartsWith($"Module is {Strategies.SmaCrossover.Length} bytes; the limit is 1000 bytes.", Assert.Single(result.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Garbage_is_not_a_module()
    {
        Assert.StartsWith("Not a WebAssembly module", Assert.Single(StrategyModuleValidator.Validate([0xff, 0xfe, 0x00, 0x01]).Errors), StringComparison.Ordinal);
        Assert.StartsWith("Not a WebAssembly module", Assert.Single(StrategyModuleValidator.Validate("hello world").Errors), StringComparison.Ordinal);
        Assert.StartsWith("Not a valid WebAssembly module", Assert.Single(StrategyModuleValidator.Validate("(module (func $f (i32.add)))").Errors), StringComparison.Ordinal);
        Assert.StartsWith("Not a valid WebAssembly module", Assert.Single(StrategyModuleValidator.Validate([0x00, 0x61, 0x73, 0x6d, 9, 9]).Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Start_function_that_loops_forever_is_refused_not_hung()
    {
        var wat = Minimal.Replace("(memory", "(func $spin (loop $l (br $l))) (start $spin) (memory", StringComparison.Ordinal);
        Assert.Contains("failed while declaring its ABI version", Assert.Single(StrategyModuleValidator.Validate(wat).Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_throws_with_the_errors_for_an_invalid_module()
    {
        var ex = Assert.Throws<StrategyValidationException>(() => StrategyModule.LoadText(Strategies.Hostile("forbidden-import")));
        Assert.Contains("environ_get", Assert.Single(ex.Errors), StringComparison.Ordinal);
    }
}
