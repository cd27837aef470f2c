// QuantTrader strategy ABI v1 bindings for AssemblyScript (see docs/strategy-abi.md).
// Every entry file re-exports `qt_abi_version` and `alloc` from here and defines
// `init`, `on_kline` and (optionally) `on_fill` itself.

// ---- host imports (module "qt") -------------------------------------------------------------

@external("qt", "place_order")
declare function qt_place_order(side: i32, type: i32, qty: f64, price: f64): i64;

@external("qt", "cancel_order")
declare function qt_cancel_order(handle: i64): i32;

@external("qt", "position")
declare function qt_position(): f64;

@external("qt", "quote_balance")
declare function qt_quote_balance(): f64;

@external("qt", "log")
declare function qt_log(ptr: usize, len: i32): void;

// ---- ABI constants ---------------------------------------------------------------------------

export const SIDE_BUY: i32 = 0;
export const SIDE_SELL: i32 = 1;
export const TYPE_MARKET: i32 = 0;
export const TYPE_LIMIT: i32 = 1;

/** The ABI version this module targets; the host refuses modules that return anything else. */
export function qt_abi_version(): i32 {
  return 1;
}

/**
 * Called by the host before `init` to get a buffer for the parameters JSON.
 * Raw (unmanaged) memory, so the garbage collector never moves or frees it behind the host's back.
 */
export function alloc(len: i32): usize {
  return heap.alloc(<usize>len);
}

// ---- helpers ---------------------------------------------------------------------------------

/** Decodes the parameters the host wrote at `ptr` and releases the buffer. */
export function takeParams(ptr: usize, len: i32): string {
  if (len <= 0) return "{}";
  const json = String.UTF8.decodeUnsafe(ptr, <usize>len);
  heap.free(ptr);
  return json;
}

/**
 * Reads a numeric field from a flat JSON object, e.g. `{"fast":5}`. Strategies only take flat
 * numeric parameters, so a full JSON parser would be dead weight in every module.
 */
export function paramNumber(json: string, key: string, fallback: f64): f64 {
  const quoted = "\"" + key + "\"";
  let at = json.indexOf(quoted);
  if (at < 0) return fallback;
  at += quoted.length;
  while (at < json.length && (json.charCodeAt(at) == 32 || json.charCodeAt(at) == 58)) at++; // ' ' and ':'
  let end = at;
  while (end < json.length) {
    const c = json.charCodeAt(end);
    const numeric = (c >= 48 && c <= 57) || c == 46 || c == 45 || c == 43 || c == 101 || c == 69;
    if (!numeric) break;
    end++;
  }
  if (end == at) return fallback;
  const value = parseFloat(json.substring(at, end));
  return isNaN(value) ? fallback : value;
}

export function placeOrder(side: i32, type: i32, qty: f64, price: f64): i64 {
  return qt_place_order(side, type, qty, price);
}

export function cancelOrder(handle: i64): bool {
  return qt_cancel_order(handle) == 1;
}

export function position(): f64 {
  return qt_position();
}

export function quoteBalance(): f64 {
  return qt_quote_balance();
}

export function log(message: string): void {
  const bytes = String.UTF8.encode(message);
  qt_log(changetype<usize>(bytes), bytes.byteLength);
}
