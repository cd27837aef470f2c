;; Hostile: on every kline asks for 100,000,000 more table elements (hundreds of MB of function references),
;; then keeps asking 1,000 at a time. The store's table limit answers -1 past 10,000 elements, so the strategy
;; keeps running with a small table and returns its size.
(module
  (memory (export "memory") 1)
  (table $t 1 funcref)
  (func (export "qt_abi_version") (result i32) (i32.const 1))
  (func (export "on_kline") (param i64 f64 f64 f64 f64 f64) (result i32)
    (drop (table.grow $t (ref.null func) (i32.const 100000000)))
    (loop $more
      (br_if $more (i32.ne (table.grow $t (ref.null func) (i32.const 1000)) (i32.const -1))))
    (table.size $t))
)
