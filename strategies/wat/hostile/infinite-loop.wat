;; Hostile: spins forever in on_kline. Must fault with reason Fuel (or Timeout) and nothing else.
(module
  (memory (export "memory") 1)
  (func (export "qt_abi_version") (result i32) (i32.const 1))
  (func (export "on_kline") (param i64 f64 f64 f64 f64 f64) (result i32)
    (loop $forever (br $forever))
    (i32.const 0))
)
