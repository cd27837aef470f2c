;; Hostile: declares a table of 100,000,000 elements, so merely instantiating it would allocate hundreds of MB.
;; Refused at upload: the validation store has the same table limit as a running strategy.
(module
  (memory (export "memory") 1)
  (table 100000000 funcref)
  (func (export "qt_abi_version") (result i32) (i32.const 1))
  (func (export "on_kline") (param i64 f64 f64 f64 f64 f64) (result i32) (i32.const 0))
)
