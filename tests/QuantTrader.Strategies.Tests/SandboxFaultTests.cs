using QuantTrader.Strategies.Sandbox;
using Xunit;

namespace QuantTrader.Strategies.Tests;

public sealed class SandboxFaultTests
{
    private static StrategySandbox Start(string wat, RecordingHost host, StrategySandboxOptions? options = null)
    {
        using var module = StrategyModule.LoadText(wat);
        // The sandbox keeps what it needs from the compiled module; disposing our handle early is fine.
        return StrategySandbox.Create(module, host, "{}", options);
    }

    [Fact]
    public void Unreachable_faults_with_trap_and_later_calls_do_not_run()
    {
        using var sandbox = Start(Strategies.Hostile("trap"), new RecordingHost());
        Assert.Equal(StrategyInstanceState.Running, sandbox.State);

        var result = sandbox.OnKline(0, 1, 1, 1, 1, 1);

        Assert.Equal(StrategyCallStatus.Faulted, result.Status);
        Assert.Equal(StrategyInstanceState.Faulted, sandbox.State);
        Assert.Equal(StrategyFaultReason.Trap, sandbox.Fault!.Reason);
        Assert.Equal("on_kline", sandbox.Fault.Call);
        Assert.Contains("unreachable", sandbox.Fault.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(StrategyCallStatus.NotRunning, sandbox.OnKline(0, 1, 1, 1, 1, 1).Status);
    }

    [Fact]
    public void Infinite_loop_runs_out_of_fuel()
    {
        var options = StrategySandboxOptions.Default with { FuelPerCall = 1_000_000, CallTimeout = TimeSpan.FromMinutes(1) };
        using var sandbox = Start(Strategies.Hostile("infinite-loop"), new RecordingHost(), options);

        var result = sandbox.OnKline(0, 1, 1, 1, 1, 1);

        Assert.Equal(StrategyCallStatus.Faulted, result.Status);
        Assert.Equal(StrategyFaultReason.Fuel, sandbox.Fault!.Reason);
        Assert.Equal(1_000_000UL, result.FuelUsed);
    }

    [Fact]
    public void Memory_bomb_faults_with_memory()
    {
        var options = StrategySandboxOptions.Default with { MemoryLimitBytes = 1024 * 1024 };
        using var sandbox = Start(Strategies.Hostile("memory-bomb"), new RecordingHost(), options);

        var result = sandbox.OnKline(0, 1, 1, 1, 1, 1);

        Assert.Equal(StrategyCallStatus.Faulted, result.Status);
        Assert.Equal(StrategyFaultReason.Memory, sandbox.Fault!.Reason);
        Assert.Contains("1048576", sandbox.Fault.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Module_whose_minimum_memory_exceeds_the_limit_faults_with_memory_at_start()
    {
        const string wat = """
            (module
              (memory (export "memory") 32)
              (func (export "qt_abi_version") (result i32) (i32.const 1))
              (func (export "on_kline") (param i64 f64 f64 f64 f64 f64) (result i32) (i32.const 0)))
            """;
        using var sandbox = Start(wat, new RecordingHost(), StrategySandboxOptions.Default with { MemoryLimitBytes = 1024 * 1024 });

        Assert.Equal(StrategyInstanceState.Faulted, sandbox.State);
        Assert.Equal(StrategyFaultReason.Memory, sandbox.Fault!.Reason);
    }

    [Fact]
    public void Host_free_loop_with_unlimited_fuel_hits_the_epoch_deadline()
    {
        // Fuel is effectively unlimited, so only the wall-clock deadline can stop this call.
        var options = StrategySandboxOptions.Default with { FuelPerCall = ulong.MaxValue / 2, CallTimeout = TimeSpan.FromMilliseconds(20) };
        using var sandbox = Start(Strategies.Hostile("infinite-loop"), new RecordingHost(), options);

        var result = sandbox.OnKline(0, 1, 1, 1, 1, 1);

        Assert.Equal(StrategyCallStatus.Faulted, result.Status);
        Assert.Equal(StrategyFaultReason.Timeout, sandbox.Fault!.Reason);
    }

    [Fact]
    public void Bad_pointer_passed_to_log_traps_the_strategy()
    {
        const string wat = """
            (module
              (import "qt" "log" (func $log (param i32 i32)))
              (memory (export "memory") 1)
              (func (export "qt_abi_version") (result i32) (i32.const 1))
              (func (export "on_kline") (param i64 f64 f64 f64 f64 f64) (result i32)
                (call $log (i32.const 65530) (i32.const 100))
                (i32.const 0)))
            """;
        var host = new RecordingHost();
        using var sandbox = Start(wat, host);

        sandbox.OnKline(0, 1, 1, 1, 1, 1);

        Assert.Equal(StrategyFaultReason.Trap, sandbox.Fault!.Reason);
        Assert.Contains("outside the module's memory", sandbox.Fault.Message, StringComparison.Ordinal);
        Assert.Empty(host.Logs);
    }

    [Fact]
    public void Start_function_trap_faults_at_create_without_throwing()
    {
        const string wat = """
            (module
              (memory (export "memory") 1)
              (global $armed (mut i32) (i32.const 0))
              (func $start (if (global.get $armed) (then unreachable)))
              (start $start)
              (func (export "qt_abi_version") (result i32) (i32.const 1))
              (func (export "init") (param i32 i32) (result i32) unreachable)
              (func (export "alloc") (param i32) (result i32) (i32.const 1024))
              (func (export "on_kline") (param i64 f64 f64 f64 f64 f64) (result i32) (i32.const 0)))
            """;
        using var sandbox = Start(wat, new RecordingHost());

        Assert.Equal(StrategyInstanceState.Faulted, sandbox.State);
        Assert.Equal(StrategyFaultReason.Trap, sandbox.Fault!.Reason);
        Assert.Equal("init", sandbox.Fault.Call);
    }

    [Fact]
    public void One_faulting_instance_does_not_affect_another()
    {
        using var engine = new StrategyEngine();
        using var good = StrategyModule.LoadText(Strategies.BuyAndHold, engine);
        using var trap = StrategyModule.LoadText(Strategies.Hostile("trap"), engine);
        using var loop = StrategyModule.LoadText(Strategies.Hostile("infinite-loop"), engine);
        using var bomb = StrategyModule.LoadText(Strategies.Hostile("memory-bomb"), engine);
        var goodHost = new RecordingHost();
        var options = StrategySandboxOptions.Default with { FuelPerCall = 1_000_000, MemoryLimitBytes = 1024 * 1024 };

        using var survivor = StrategySandbox.Create(good, goodHost, "{}", options);
        using var trapping = StrategySandbox.Create(trap, new RecordingHost(), "{}", options);
        using var looping = StrategySandbox.Create(loop, new RecordingHost(), "{}", options);
        using var bombing = StrategySandbox.Create(bomb, new RecordingHost(), "{}", options);

        // Interleave: every hostile instance faults between the good one's calls.
        Assert.Equal(StrategyCallStatus.Faulted, trapping.OnKline(0, 100, 101, 99, 100, 1).Status);
        Assert.Equal(StrategyCallStatus.Ok, survivor.OnKline(0, 100, 101, 99, 100, 1).Status);
        Assert.Equal(StrategyCallStatus.Faulted, looping.OnKline(0, 100, 101, 99, 100, 1).Status);
        Assert.Equal(StrategyCallStatus.Faulted, bombing.OnKline(0, 100, 101, 99, 100, 1).Status);
        Assert.Equal(StrategyCallStatus.Ok, survivor.OnKline(60_000, 100, 101, 99, 100, 1).Status);

        Assert.Equal(StrategyFaultReason.Trap, trapping.Fault!.Reason);
        Assert.Equal(StrategyFaultReason.Fuel, looping.Fault!.Reason);
        Assert.Equal(StrategyFaultReason.Memory, bombing.Fault!.Reason);
        Assert.Equal(StrategyInstanceState.Running, survivor.State);
        Assert.Null(survivor.Fault);
        // Buy and hold bought exactly once, on the first kline, with 99% of the balance.
        var order = Assert.Single(goodHost.Orders);
        Assert.Equal(99m, order.Quantity);
        Assert.Contains("buy-and-hold: bought", goodHost.Logs);

        // A new instance of a module that faulted elsewhere starts clean: faults are per store, not per module.
        using var again = StrategySandbox.Create(trap, new RecordingHost(), "{}", options);
        Assert.Equal(StrategyInstanceState.Running, again.State);
    }
}
