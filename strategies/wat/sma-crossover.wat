;; SMA crossover, hand-written in WAT: the same strategy as sma-crossover/sma-crossover.ts, so it places the
;; same orders on the same klines (tested). Buys `quantity` when the fast simple moving average of closes crosses
;; above the slow one, sells the whole position when it crosses back below. Long only, market orders.
;; Parameters (JSON): {"fast": 5, "slow": 20, "quantity": 0.01} — flat numbers; plain decimals (no exponent).
;;
;; Memory (2 pages = 128 KiB):
;;   16..1023      constant strings (parameter keys, log lines)
;;   8192..73727   the parameters buffer handed out by alloc (the ABI caps parameters at 64 KiB)
;;   73728..81727  ring buffer of the last `slow` closes (f64, at most 1000)
(module
  (import "qt" "place_order" (func $place_order (param i32 i32 f64 f64) (result i64)))
  (import "qt" "position" (func $position (result f64)))
  (import "qt" "log" (func $log (param i32 i32)))

  (memory (export "memory") 2)
  (data (i32.const 16) "\"fast\"")
  (data (i32.const 32) "\"slow\"")
  (data (i32.const 48) "\"quantity\"")
  (data (i32.const 64) "sma-crossover (wat): invalid parameters, need 1 <= fast < slow <= 1000 and quantity > 0")
  (data (i32.const 192) "sma-crossover (wat): ready")
  (data (i32.const 240) "sma-crossover (wat): bought")
  (data (i32.const 288) "sma-crossover (wat): sold")

  (global $params_ptr (mut i32) (i32.const 0))
  (global $params_len (mut i32) (i32.const 0))
  (global $fast (mut i32) (i32.const 5))
  (global $slow (mut i32) (i32.const 20))
  (global $quantity (mut f64) (f64.const 0.01))
  (global $head (mut i32) (i32.const 0))
  (global $seen (mut i32) (i32.const 0))
  (global $previous_spread (mut f64) (f64.const 0))
  (global $have_previous (mut i32) (i32.const 0))

  (func (export "qt_abi_version") (result i32) (i32.const 1))

  ;; One fixed buffer: init is called once, right after alloc.
  (func (export "alloc") (param $len i32) (result i32) (i32.const 8192))

  ;; 1 when the `len` bytes at `at` equal those at `key`.
  (func $matches (param $at i32) (param $key i32) (param $len i32) (result i32)
    (local $j i32)
    (block $different
      (loop $next
        (if (i32.ge_u (local.get $j) (local.get $len)) (then (return (i32.const 1))))
        (br_if $different (i32.ne (i32.load8_u (i32.add (local.get $at) (local.get $j)))
                                  (i32.load8_u (i32.add (local.get $key) (local.get $j)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  ;; The number after the quoted key `key` in the parameters JSON, or `default` when absent.
  (func $param (param $key i32) (param $key_len i32) (param $default f64) (result f64)
    (local $i i32) (local $stop i32) (local $c i32) (local $value f64) (local $scale f64)
    (local $digits i32) (local $negative i32) (local $fraction i32)
    (local.set $i (global.get $params_ptr))
    (local.set $stop (i32.add (global.get $params_ptr) (global.get $params_len)))
    (block $found
      (loop $search
        (if (i32.gt_u (i32.add (local.get $i) (local.get $key_len)) (local.get $stop)) (then (return (local.get $default))))
        (br_if $found (call $matches (local.get $i) (local.get $key) (local.get $key_len)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $search)))
    (local.set $i (i32.add (local.get $i) (local.get $key_len)))
    ;; skip spaces and the colon
    (block $skipped
      (loop $skip
        (br_if $skipped (i32.ge_u (local.get $i) (local.get $stop)))
        (local.set $c (i32.load8_u (local.get $i)))
        (br_if $skipped (i32.and (i32.ne (local.get $c) (i32.const 32)) (i32.ne (local.get $c) (i32.const 58))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $skip)))
    (if (i32.and (i32.lt_u (local.get $i) (local.get $stop)) (i32.eq (i32.load8_u (local.get $i)) (i32.const 45)))
      (then (local.set $negative (i32.const 1)) (local.set $i (i32.add (local.get $i) (i32.const 1)))))
    (local.set $scale (f64.const 1))
    (block $done
      (loop $digit
        (br_if $done (i32.ge_u (local.get $i) (local.get $stop)))
        (local.set $c (i32.load8_u (local.get $i)))
        (if (i32.eq (local.get $c) (i32.const 46))
          (then
            (br_if $done (local.get $fraction))
            (local.set $fraction (i32.const 1)))
          (else
            (br_if $done (i32.gt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 9)))
            (local.set $value (f64.add (f64.mul (local.get $value) (f64.const 10))
                                       (f64.convert_i32_u (i32.sub (local.get $c) (i32.const 48)))))
            (if (local.get $fraction) (then (local.set $scale (f64.mul (local.get $scale) (f64.const 10)))))
            (local.set $digits (i32.add (local.get $digits) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $digit)))
    (if (i32.eqz (local.get $digits)) (then (return (local.get $default))))
    (local.set $value (f64.div (local.get $value) (local.get $scale)))
    (if (result f64) (local.get $negative)
      (then (f64.neg (local.get $value)))
      (else (local.get $value))))

  (func (export "init") (param $ptr i32) (param $len i32) (result i32)
    (global.set $params_ptr (local.get $ptr))
    (global.set $params_len (local.get $len))
    (global.set $fast (i32.trunc_sat_f64_s (call $param (i32.const 16) (i32.const 6) (f64.const 5))))
    (global.set $slow (i32.trunc_sat_f64_s (call $param (i32.const 32) (i32.const 6) (f64.const 20))))
    (global.set $quantity (call $param (i32.const 48) (i32.const 10) (f64.const 0.01)))
    (if (i32.or
          (i32.or (i32.lt_s (global.get $fast) (i32.const 1)) (i32.le_s (global.get $slow) (global.get $fast)))
          (i32.or (i32.gt_s (global.get $slow) (i32.const 1000)) (i32.eqz (f64.gt (global.get $quantity) (f64.const 0)))))
      (then
        (call $log (i32.const 64) (i32.const 87))
        (return (i32.const 1))))
    (call $log (i32.const 192) (i32.const 26))
    (i32.const 0))

  (func (export "on_kline")
        (param $open_time i64) (param $open f64) (param $high f64) (param $low f64)
        (param $close f64) (param $volume f64) (result i32)
    (local $i i32) (local $c f64) (local $sum_fast f64) (local $sum_slow f64) (local $spread f64) (local $held f64)
    (f64.store (i32.add (i32.const 73728) (i32.shl (global.get $head) (i32.const 3))) (local.get $close))
    (global.set $head (i32.rem_u (i32.add (global.get $head) (i32.const 1)) (global.get $slow)))
    (if (i32.lt_s (global.get $seen) (global.get $slow)) (then (global.set $seen (i32.add (global.get $seen) (i32.const 1)))))
    (if (i32.lt_s (global.get $seen) (global.get $slow)) (then (return (i32.const 0))))

    ;; Newest close is at head-1; walk backwards so the fast window is the most recent `fast` closes.
    (loop $sum
      (local.set $c (f64.load (i32.add (i32.const 73728) (i32.shl
        (i32.rem_u (i32.add (i32.sub (i32.sub (global.get $head) (i32.const 1)) (local.get $i)) (global.get $slow)) (global.get $slow))
        (i32.const 3)))))
      (local.set $sum_slow (f64.add (local.get $sum_slow) (local.get $c)))
      (if (i32.lt_s (local.get $i) (global.get $fast)) (then (local.set $sum_fast (f64.add (local.get $sum_fast) (local.get $c)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $sum (i32.lt_s (local.get $i) (global.get $slow))))
    (local.set $spread (f64.sub (f64.div (local.get $sum_fast) (f64.convert_i32_s (global.get $fast)))
                                (f64.div (local.get $sum_slow) (f64.convert_i32_s (global.get $slow)))))

    (if (global.get $have_previous)
      (then
        (local.set $held (call $position))
        (if (i32.and (i32.and (f64.le (global.get $previous_spread) (f64.const 0)) (f64.gt (local.get $spread) (f64.const 0)))
                     (f64.le (local.get $held) (f64.const 0)))
          (then (drop (call $place_order (i32.const 0) (i32.const 0) (global.get $quantity) (f64.const 0))))
          (else
            (if (i32.and (i32.and (f64.ge (global.get $previous_spread) (f64.const 0)) (f64.lt (local.get $spread) (f64.const 0)))
                         (f64.gt (local.get $held) (f64.const 0)))
              (then (drop (call $place_order (i32.const 1) (i32.const 0) (local.get $held) (f64.const 0)))))))))
    (global.set $previous_spread (local.get $spread))
    (global.set $have_previous (i32.const 1))
    (i32.const 0))

  (func (export "on_fill") (param $handle i64) (param $side i32) (param $price f64) (param $qty f64) (param $fee f64) (result i32)
    (if (i32.eqz (local.get $side))
      (then (call $log (i32.const 240) (i32.const 27)))
      (else (call $log (i32.const 288) (i32.const 25))))
    (i32.const 0))
)
