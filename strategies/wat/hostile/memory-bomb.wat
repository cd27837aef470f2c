;; Hostile: grows linear memory one page at a time until the host refuses, then traps the way a
;; real allocator does when it cannot get memory. Must fault with reason Memory.
(module
  (memory (export "memory") 1)
  (func (export "qt_abi_version") (result i32) (i32.const 1))
  (func (export "on_kline") (param i64 f64 f64 f64 f64 f64) (result i32)
    (loop $more
      (br_if $more (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    unreachable)
)
