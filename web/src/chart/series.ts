import type { CandlestickData, HistogramData, LineData, SeriesMarker, UTCTimestamp } from 'lightweight-charts';
import type { Fill, IndicatorPoint, Kline, Order } from '../api/types';

/** The 8 intervals of API.md, with their length in seconds. */
export const INTERVALS = ['1m', '3m', '5m', '15m', '30m', '1h', '4h', '1d'] as const;
export type Interval = (typeof INTERVALS)[number];
export const INTERVAL_SECONDS: Record<Interval, number> = {
  '1m': 60, '3m': 180, '5m': 300, '15m': 900, '30m': 1800, '1h': 3600, '4h': 14400, '1d': 86400,
};

export const UP = '#26a69a';
export const DOWN = '#ef5350';

/** ISO time → the chart's UTC seconds. */
export function toChartTime(iso: string): UTCTimestamp {
  return Math.floor(Date.parse(iso) / 1000) as UTCTimestamp;
}

/** Klines (oldest first, as the API lists them) → candles keyed by open time. */
export function toCandles(klines: Kline[]): CandlestickData<UTCTimestamp>[] {
  return klines.map(k => ({ time: toChartTime(k.openTime), open: k.open, high: k.high, low: k.low, close: k.close }));
}

/** Klines → volume bars coloured by the candle's direction. */
export function toVolumes(klines: Kline[]): HistogramData<UTCTimestamp>[] {
  return klines.map(k => ({ time: toChartTime(k.openTime), value: k.volume, color: k.close >= k.open ? `${UP}80` : `${DOWN}80` }));
}

/** One output of an indicator series (`value` for single-output ones; `upper`, `macd`... for the others). */
export function toLine(points: IndicatorPoint[], output = 'value'): LineData<UTCTimestamp>[] {
  const line: LineData<UTCTimestamp>[] = [];
  for (const p of points) {
    const v = p[output];
    if (typeof v === 'number' && Number.isFinite(v)) line.push({ time: toChartTime(p.time), value: v });
  }
  return line;
}

/** MACD histogram bars, green above zero. */
export function toHistogram(points: IndicatorPoint[], output = 'histogram'): HistogramData<UTCTimestamp>[] {
  return toLine(points, output).map(p => ({ ...p, color: p.value >= 0 ? UP : DOWN }));
}

/**
 * Fills → markers on the candle they fall in (lightweight-charts needs a marker's time to be a bar's time, and
 * markers sorted by time). A fill without a side (the fills list carries the order id only) borrows its order's.
 */
export function toFillMarkers(
  fills: Fill[], intervalSeconds: number, sideOf: (orderId: string) => string | undefined = () => undefined,
): SeriesMarker<UTCTimestamp>[] {
  return fills
    .map(f => {
      const side = f.side ?? sideOf(f.orderId) ?? 'buy';
      const at = toChartTime(f.time);
      const bar = (at - (at % intervalSeconds)) as UTCTimestamp;
      const buy = side === 'buy';
      return {
        time: bar,
        position: buy ? 'belowBar' : 'aboveBar',
        color: buy ? UP : DOWN,
        shape: buy ? 'arrowUp' : 'arrowDown',
        text: `${buy ? 'B' : 'S'} ${f.quantity}@${f.price}`,
        id: `fill-${f.orderId}-${f.time}`,
      } satisfies SeriesMarker<UTCTimestamp>;
    })
    .sort((a, b) => a.time - b.time);
}

/** Open orders → one price line each: limit price, or stop price for stops that have not triggered. */
export function toOrderLines(orders: Order[]): { id: string; price: number; title: string; color: string }[] {
  const lines: { id: string; price: number; title: string; color: string }[] = [];
  for (const o of orders) {
    const price = o.price ?? o.stopPrice;
    if (price === null || price === undefined) continue;
    lines.push({
      id: o.id,
      price,
      title: `${o.side} ${o.type.replace(/_/g, ' ')} ${o.quantity - (o.filledQuantity ?? 0)}`,
      color: o.side === 'buy' ? UP : DOWN,
    });
  }
  return lines;
}

/**
 * A live kline update applied to the series' candles: replaces the bar with the same open time or appends a newer
 * one; an update older than the last bar is ignored (lightweight-charts refuses to go back in time).
 */
export function applyKline(candles: CandlestickData<UTCTimestamp>[], k: Kline): CandlestickData<UTCTimestamp> | undefined {
  const bar = { time: toChartTime(k.openTime), open: k.open, high: k.high, low: k.low, close: k.close };
  const last = candles[candles.length - 1];
  if (last && bar.time < last.time) return undefined;
  if (last && bar.time === last.time) candles[candles.length - 1] = bar;
  else candles.push(bar);
  return bar;
}

/** Drawdown (≤ 0, as a ratio) of an equity curve at each point, from its running peak. */
export function drawdown(equity: LineData<UTCTimestamp>[]): LineData<UTCTimestamp>[] {
  let peak = -Infinity;
  return equity.map(p => {
    peak = Math.max(peak, p.value);
    return { time: p.time, value: peak > 0 ? p.value / peak - 1 : 0 };
  });
}

/** An equity curve as a line, de-duplicated by second (the chart needs strictly increasing times). */
export function toEquityLine(points: { time: string; equity: number }[]): LineData<UTCTimestamp>[] {
  const line: LineData<UTCTimestamp>[] = [];
  for (const p of points) {
    const t = toChartTime(p.time);
    const last = line[line.length - 1];
    if (last && last.time === t) last.value = p.equity;
    else if (!last || t > last.time) line.push({ time: t, value: p.equity });
  }
  return line;
}
