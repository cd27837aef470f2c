import { describe, expect, it } from 'vitest';
import type { Kline, Order } from '../src/api/types';
import { applyKline, drawdown, toCandles, toChartTime, toEquityLine, toFillMarkers, toHistogram, toLine, toOrderLines, toVolumes } from '../src/chart/series';

const kline = (openTime: string, open: number, close: number, volume = 1): Kline => ({
  openTime, closeTime: openTime, open, high: Math.max(open, close) + 1, low: Math.min(open, close) - 1, close, volume,
  quoteVolume: volume * close, trades: 3, closed: true,
});

describe('klines become chart series', () => {
  it('keys each candle by its open time in UTC seconds with the kline prices', () => {
    const candles = toCandles([kline('2024-03-01T00:01:00Z', 100, 101), kline('2024-03-01T00:02:00Z', 101, 99)]);
    expect(candles).toEqual([
      { time: 1709251260, open: 100, high: 102, low: 99, close: 101 },
      { time: 1709251320, open: 101, high: 102, low: 98, close: 99 },
    ]);
  });

  it('colours volume by the candle direction', () => {
    const [up, down] = toVolumes([kline('2024-03-01T00:01:00Z', 100, 101, 5), kline('2024-03-01T00:02:00Z', 101, 99, 7)]);
    expect(up).toMatchObject({ value: 5, color: '#26a69a80' });
    expect(down).toMatchObject({ value: 7, color: '#ef535080' });
  });

  it('replaces the open candle on a live update and appends the next one', () => {
    const candles = toCandles([kline('2024-03-01T00:01:00Z', 100, 101)]);
    applyKline(candles, { ...kline('2024-03-01T00:01:00Z', 100, 105), closed: false });
    expect(candles).toHaveLength(1);
    expect(candles[0].close).toBe(105);
    applyKline(candles, kline('2024-03-01T00:02:00Z', 105, 106));
    expect(candles.map(c => c.time)).toEqual([1709251260, 1709251320]);
  });

  it('ignores a live update older than the last candle', () => {
    const candles = toCandles([kline('2024-03-01T00:02:00Z', 100, 101)]);
    expect(applyKline(candles, kline('2024-03-01T00:01:00Z', 1, 2))).toBeUndefined();
    expect(candles).toHaveLength(1);
  });
});

describe('indicators become lines', () => {
  const points = [
    { time: '2024-03-01T00:01:00Z', value: 1.5, upper: 3, histogram: -0.5 },
    { time: '2024-03-01T00:02:00Z', value: 2.5, upper: 4, histogram: 0.5 },
  ];
  it('takes the value of single-output indicators', () => {
    expect(toLine(points)).toEqual([{ time: 1709251260, value: 1.5 }, { time: 1709251320, value: 2.5 }]);
  });
  it('takes a named output of multi-output indicators', () => {
    expect(toLine(points, 'upper').map(p => p.value)).toEqual([3, 4]);
  });
  it('colours the MACD histogram by sign', () => {
    expect(toHistogram(points).map(p => p.color)).toEqual(['#ef5350', '#26a69a']);
  });
});

describe('the user\'s orders and fills on the chart', () => {
  it('puts a fill on the bar it falls in, with the side of its order', () => {
    const markers = toFillMarkers(
      [{ orderId: 'o1', time: '2024-03-01T00:01:42Z', price: 100, quantity: 0.5, fee: 0, feeAsset: 'USDT', liquidity: 'taker' }],
      60, id => (id === 'o1' ? 'sell' : undefined));
    expect(markers).toHaveLength(1);
    expect(markers[0]).toMatchObject({ time: toChartTime('2024-03-01T00:01:00Z'), position: 'aboveBar', shape: 'arrowDown', text: 'S 0.5@100' });
  });

  it('draws a line at the limit price, or the stop price, of each open order', () => {
    const order = (o: Partial<Order>): Order => ({
      id: 'x', exchange: 'binance', symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: 1, timeInForce: 'gtc', status: 'new',
      filledQuantity: 0.25, createdAt: '', ...o,
    });
    const lines = toOrderLines([order({ id: 'a', price: 50000 }), order({ id: 'b', type: 'stop_market', side: 'sell', stopPrice: 48000 }), order({ id: 'c', type: 'market' })]);
    expect(lines).toEqual([
      { id: 'a', price: 50000, title: 'buy limit 0.75', color: '#26a69a' },
      { id: 'b', price: 48000, title: 'sell stop market 0.75', color: '#ef5350' },
    ]);
  });
});

describe('equity curves', () => {
  it('keeps one point per second and computes the drawdown from the running peak', () => {
    const line = toEquityLine([
      { time: '2024-03-01T00:00:00Z', equity: 100 },
      { time: '2024-03-01T00:00:00.500Z', equity: 110 },
      { time: '2024-03-01T00:01:00Z', equity: 99 },
      { time: '2024-03-01T00:02:00Z', equity: 121 },
    ]);
    expect(line.map(p => p.value)).toEqual([110, 99, 121]);
    expect(drawdown(line).map(p => Number(p.value.toFixed(4)))).toEqual([0, -0.1, 0]);
  });
});
