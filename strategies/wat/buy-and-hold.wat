;; Buy and hold, written directly against strategy ABI v1 (docs/strategy-abi.md).
;; On the first closed kline it spends `fraction` of the quote balance (default 0.99, leaving room
;; for the fee) on a market buy, then holds. Parameters are ignored, so `alloc` just hands out a
;; fixed scratch buffer and `init` accepts anything.
(module
  (import "qt" "place_order" (func $place_order (param i32 i32 f64 f64) (result i64)))
  (import "qt" "quote_balance" (func $quote_balance (result f64)))
  (import "qt" "log" (func $log (param i32 i32)))

  (memory (export "memory") 1)
  (data (i32.const 16) "buy-and-hold: bought")   ;; 20 bytes
  (data (i32.const 48) "buy-and-hold: order refused")  ;; 27 bytes

  (global $bought (mut i32) (i32.const 0))

  (func (export "qt_abi_version") (result i32) (i32.const 1))

  ;; Parameters land at 1024; up to 63 KiB fits in the single page.
  (func (export "alloc") (param $len i32) (result i32) (i32.const 1024))

  (func (export "init") (param $ptr i32) (param $len i32) (result i32) (i32.const 0))

  (func (export "on_kline")
        (param $open_time i64) (param $open f64) (param $high f64) (param $low f64)
        (param $close f64) (param $volume f64) (result i32)
    (local $handle i64)
    (if (global.get $bought) (then (return (i32.const 0))))
    (local.set $handle
      (call $place_order
        (i32.const 0)                                   ;; side: buy
        (i32.const 0)                                   ;; type: market
        (f64.div (f64.mul (call $quote_balance) (f64.const 0.99)) (local.get $close))
        (f64.const 0)))                                 ;; price: ignored for market orders
    (if (i64.gt_s (local.get $handle) (i64.const 0))
      (then
        (global.set $bought (i32.const 1))
        (call $log (i32.const 16) (i32.const 20)))
      (else
        (call $log (i32.const 48) (i32.const 27))))
    (i32.const 0))
)
