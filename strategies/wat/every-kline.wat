;; Every kline, one order: a limit buy of 0.001 at the kline's close, and one log line "every-kline: kline".
;; Used by the tests that count what a strategy saw (StrategyReplicaTests): each closed kline must produce exactly one
;; order (its clientOrderId names the kline's open time) and one log line, across crashes and hand-overs.
(module
  (import "qt" "place_order" (func $place_order (param i32 i32 f64 f64) (result i64)))
  (import "qt" "log" (func $log (param i32 i32)))

  (memory (export "memory") 1)
  (data (i32.const 16) "every-kline: kline")   ;; 18 bytes

  (func (export "qt_abi_version") (result i32) (i32.const 1))

  (func (export "on_kline")
        (param $open_time i64) (param $open f64) (param $high f64) (param $low f64)
        (param $close f64) (param $volume f64) (result i32)
    (drop (call $place_order (i32.const 0) (i32.const 1) (f64.const 0.001) (local.get $close)))
    (call $log (i32.const 16) (i32.const 18))
    (i32.const 0))
)
