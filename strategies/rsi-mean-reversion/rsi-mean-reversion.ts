// RSI mean reversion: buy `quantity` when Wilder's RSI of closes drops below `oversold`, sell the
// whole position when it rises above `overbought`. Long only, market orders.
// Parameters (JSON): {"period": 14, "oversold": 30, "overbought": 70, "quantity": 0.01}
import { SIDE_BUY, SIDE_SELL, TYPE_MARKET, log, paramNumber, placeOrder, position, takeParams } from "../lib/qt";
export { alloc, qt_abi_version } from "../lib/qt";

let period: i32 = 14;
let oversold: f64 = 30;
let overbought: f64 = 70;
let quantity: f64 = 0.01;

let previousClose: f64 = 0;
let haveClose = false;
let warmup: i32 = 0;
let averageGain: f64 = 0;
let averageLoss: f64 = 0;

export function init(ptr: usize, len: i32): i32 {
  const json = takeParams(ptr, len);
  period = <i32>paramNumber(json, "period", 14);
  oversold = paramNumber(json, "oversold", 30);
  overbought = paramNumber(json, "overbought", 70);
  quantity = paramNumber(json, "quantity", 0.01);
  if (period < 2 || !(oversold > 0) || !(overbought < 100) || !(oversold < overbought) || !(quantity > 0)) {
    log("rsi-mean-reversion: invalid parameters");
    return 1;
  }
  log("rsi-mean-reversion: period=" + period.toString());
  return 0;
}

export function on_kline(openTimeMs: i64, open: f64, high: f64, low: f64, close: f64, volume: f64): i32 {
  if (!haveClose) {
    previousClose = close;
    haveClose = true;
    return 0;
  }
  const change = close - previousClose;
  previousClose = close;
  const gain = change > 0 ? change : 0;
  const loss = change < 0 ? -change : 0;

  if (warmup < period) {
    // Seed with the simple average of the first `period` changes, as Wilder did.
    averageGain += gain;
    averageLoss += loss;
    warmup++;
    if (warmup < period) return 0;
    averageGain /= <f64>period;
    averageLoss /= <f64>period;
  } else {
    averageGain = (averageGain * <f64>(period - 1) + gain) / <f64>period;
    averageLoss = (averageLoss * <f64>(period - 1) + loss) / <f64>period;
  }

  const rsi = averageLoss == 0 ? 100.0 : 100.0 - 100.0 / (1.0 + averageGain / averageLoss);
  const held = position();
  if (rsi < oversold && held <= 0) {
    placeOrder(SIDE_BUY, TYPE_MARKET, quantity, 0);
  } else if (rsi > overbought && held > 0) {
    placeOrder(SIDE_SELL, TYPE_MARKET, held, 0);
  }
  return 0;
}

export function on_fill(handle: i64, side: i32, price: f64, qty: f64, fee: f64): i32 {
  log((side == SIDE_BUY ? "bought " : "sold ") + qty.toString() + " @ " + price.toString());
  return 0;
}
