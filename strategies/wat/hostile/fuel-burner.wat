;; Hostile (to budgets, not to the rules): spends most of its per-call fuel on every kline without ever
;; faulting, so only a budget for the whole backtest, or its client going away, ends a long run.
(module
  (memory (export "memory") 1)
  (func (export "qt_abi_version") (result i32) (i32.const 1))
  (func (export "on_kline") (param i64 f64 f64 f64 f64 f64) (result i32)
    (local $n i32)
    (local.set $n (i32.const 1500000))
    (loop $spin
      (br_if $spin (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (i32.const 0))
)
