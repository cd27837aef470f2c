// SMA crossover: buy `quantity` when the fast simple moving average of closes crosses above the
// slow one, sell the whole position when it crosses back below. Long only, market orders.
// Parameters (JSON): {"fast": 5, "slow": 20, "quantity": 0.01}
import { SIDE_BUY, SIDE_SELL, TYPE_MARKET, log, paramNumber, placeOrder, position, takeParams } from "../lib/qt";
export { alloc, qt_abi_version } from "../lib/qt";

const MAX_WINDOW: i32 = 1000;

let fast: i32 = 5;
let slow: i32 = 20;
let quantity: f64 = 0.01;

// Ring buffer of the last `slow` closes; allocated once in init so on_kline never allocates.
let closes = new StaticArray<f64>(MAX_WINDOW);
let head: i32 = 0;
let seen: i32 = 0;
let previousSpread: f64 = 0;
let havePrevious = false;

export function init(ptr: usize, len: i32): i32 {
  const json = takeParams(ptr, len);
  fast = <i32>paramNumber(json, "fast", 5);
  slow = <i32>paramNumber(json, "slow", 20);
  quantity = paramNumber(json, "quantity", 0.01);
  if (fast < 1 || slow <= fast || slow > MAX_WINDOW || !(quantity > 0)) {
    log("sma-crossover: invalid parameters, need 1 <= fast < slow <= 1000 and quantity > 0");
    return 1;
  }
  log("sma-crossover: fast=" + fast.toString() + " slow=" + slow.toString());
  return 0;
}

export function on_kline(openTimeMs: i64, open: f64, high: f64, low: f64, close: f64, volume: f64): i32 {
  unchecked(closes[head] = close);
  head = (head + 1) % slow;
  if (seen < slow) seen++;
  if (seen < slow) return 0;

  // Newest close is at head-1; walk backwards so the fast window is the most recent `fast` bars.
  let sumFast: f64 = 0;
  let sumSlow: f64 = 0;
  for (let i = 0; i < slow; i++) {
    const c = unchecked(closes[(head - 1 - i + slow) % slow]);
    sumSlow += c;
    if (i < fast) sumFast += c;
  }
  const spread = sumFast / <f64>fast - sumSlow / <f64>slow;

  if (havePrevious) {
    const held = position();
    if (previousSpread <= 0 && spread > 0 && held <= 0) {
      placeOrder(SIDE_BUY, TYPE_MARKET, quantity, 0);
    } else if (previousSpread >= 0 && spread < 0 && held > 0) {
      placeOrder(SIDE_SELL, TYPE_MARKET, held, 0);
    }
  }
  previousSpread = spread;
  havePrevious = true;
  return 0;
}

export function on_fill(handle: i64, side: i32, price: f64, qty: f64, fee: f64): i32 {
  log((side == SIDE_BUY ? "bought " : "sold ") + qty.toString() + " @ " + price.toString());
  return 0;
}
