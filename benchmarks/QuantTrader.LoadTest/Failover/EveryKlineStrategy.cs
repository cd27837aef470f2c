namespace QuantTrader.LoadTest.Failover;

/// <summary>
/// A strategy module in WebAssembly text (the runner compiles .wat itself, offline; docs/strategy-abi.md): on every
/// closed kline one limit buy of 0.001 at the kline's close and one log line. Each kline it sees is one order, so its
/// orders count the klines it saw — once each, across crashes and hand-overs.
/// </summary>
public static class EveryKlineStrategy
{
    public const string Wat = """
        (module
          (import "qt" "place_order" (func $place_order (param i32 i32 f64 f64) (result i64)))
          (import "qt" "log" (func $log (param i32 i32)))
          (memory (export "memory") 1)
          (data (i32.const 16) "every-kline: kline")
          (func (export "qt_abi_version") (result i32) (i32.const 1))
          (func (export "alloc") (param $len i32) (result i32) (i32.const 1024))
          (func (export "init") (param $ptr i32) (param $len i32) (result i32) (i32.const 0))
          (func (export "on_kline")
                (param $open_time i64) (param $open f64) (param $high f64) (param $low f64)
                (param $close f64) (param $volume f64) (result i32)
            (drop (call $place_order (i32.const 0) (i32.const 1) (f64.const 0.001) (local.get $close)))
            (call $log (i32.const 16) (i32.const 18))
            (i32.const 0)))
        """;
}
