;; Hostile: hits `unreachable` on the first kline. Must fault with reason Trap.
(module
  (memory (export "memory") 1)
  (func (export "qt_abi_version") (result i32) (i32.const 1))
  (func (export "on_kline") (param i64 f64 f64 f64 f64 f64) (result i32)
    unreachable)
)
