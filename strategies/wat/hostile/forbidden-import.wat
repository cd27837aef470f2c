;; Hostile: imports a WASI function to read the environment. Must be refused at validation.
(module
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "qt_abi_version") (result i32) (i32.const 1))
  (func (export "on_kline") (param i64 f64 f64 f64 f64 f64) (result i32)
    (drop (call $environ_get (i32.const 0) (i32.const 0)))
    (i32.const 0))
)
