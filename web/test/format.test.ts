import { describe, expect, it } from 'vitest';
import { enumLabel, enumValue, formatCompact, formatMoney, formatPercent, formatPrice, formatStatistic, formatTime, labelOf } from '../src/format';
import { daySummary } from '../src/pages/markets';
import { fieldsFor, orderRequest } from '../src/pages/trade';
import { alertRequest, describeCondition } from '../src/pages/alerts';
import { backoff, sinceFor } from '../src/stream/client';

describe('formatting', () => {
  it('shows prices with precision by magnitude', () => {
    expect(formatPrice(64123.456)).toBe('64,123.46');
    expect(formatPrice(1.23456)).toBe('1.2346');
    expect(formatPrice(0.000123456)).toBe('0.00012346');
    expect(formatPrice(undefined)).toBe('–');
  });
  it('shows signed percents, money and compact volumes', () => {
    expect(formatPercent(0.0123)).toBe('+1.23 %');
    expect(formatPercent(-0.5)).toBe('−50.00 %');
    expect(formatMoney(10000)).toBe('10,000.00 USDT');
    expect(formatCompact(1234567)).toBe('1.23M');
  });
  it('shows times in UTC', () => {
    expect(formatTime('2024-03-01T00:01:00Z')).toBe('2024-03-01 00:01:00 UTC');
  });
  it('labels statistics and shows ratios as percents', () => {
    expect(labelOf('maxDrawdown')).toBe('Max drawdown');
    expect(formatStatistic('maxDrawdown', -0.125)).toBe('−12.50 %');
    expect(formatStatistic('sharpeRatio', 1.23456)).toBe('1.2346');
    expect(formatStatistic('trades', 12)).toBe('12');
  });
  it('reads enum values in either spelling', () => {
    expect(enumValue('PartiallyFilled')).toBe('partially_filled');
    expect(enumValue('partially_filled')).toBe('partially_filled');
    expect(enumLabel('StopLimit')).toBe('stop limit');
  });
});

describe('markets', () => {
  it('summarises a day of hourly klines', () => {
    const k = (open: number, close: number, volume: number) => ({ openTime: '', closeTime: '', open, high: 0, low: 0, close, volume, quoteVolume: 0, trades: 0, closed: true });
    expect(daySummary([k(100, 105, 2), k(105, 110, 3)])).toEqual({ last: 110, change: 0.10000000000000009, volume: 5 });
    expect(daySummary([])).toEqual({});
  });
});

describe('the order ticket', () => {
  it('sends only the fields the order type uses, as numbers', () => {
    const body = orderRequest({
      market: 'binance/BTCUSDT', side: 'buy', type: 'limit', timeInForce: 'gtc', quantity: '0.01', price: '50000', stopPrice: '49000',
      trailingAmount: '', trailingPercent: '', activationPrice: '', expireAt: '', clientOrderId: '', postOnly: true, reduceOnly: false,
    });
    expect(body).toEqual({ exchange: 'binance', symbol: 'BTCUSDT', side: 'buy', type: 'limit', timeInForce: 'gtc', quantity: 0.01, price: 50000, postOnly: true });
  });
  it('asks for a stop price on stops, trailing fields on trailing stops, and an expiry for GTD', () => {
    expect(fieldsFor('stop_limit', 'gtc').has('stopPrice')).toBe(true);
    expect(fieldsFor('stop_limit', 'gtc').has('price')).toBe(true);
    expect(fieldsFor('market', 'ioc').has('price')).toBe(false);
    expect(fieldsFor('trailing_stop_market', 'gtc').has('trailingPercent')).toBe(true);
    expect(fieldsFor('limit', 'gtd').has('expireAt')).toBe(true);
  });
  it('reads the GTD expiry as UTC', () => {
    const body = orderRequest({ market: 'okx/ETHUSDT', side: 'sell', type: 'limit', timeInForce: 'gtd', quantity: '1', price: '3000', expireAt: '2026-12-31T23:00' });
    expect(body.expireAt).toBe('2026-12-31T23:00:00.000Z');
  });
});

describe('alerts', () => {
  it('builds each kind of condition', () => {
    const base = { market: 'binance/BTCUSDT', value: '70000', repeat: 'once', window: '15m', indicator: 'rsi', interval: '5m', period: '14', operator: 'above' };
    expect(alertRequest({ ...base, conditionType: 'price_crosses_above' })).toEqual({
      exchange: 'binance', symbol: 'BTCUSDT', repeat: 'once', condition: { type: 'price_crosses_above', value: 70000 },
    });
    expect(alertRequest({ ...base, conditionType: 'percent_change', value: '-5' }).condition).toEqual({ type: 'percent_change', window: '15m', value: -5 });
    expect(alertRequest({ ...base, conditionType: 'indicator', value: '70' }).condition).toEqual({
      type: 'indicator', operator: 'above', value: 70, indicator: { name: 'rsi', interval: '5m', params: { period: 14 } },
    });
  });
  it('describes a rule in words', () => {
    expect(describeCondition({ type: 'indicator', indicator: { name: 'rsi', interval: '5m', params: { period: 14 } }, operator: 'crosses_above', value: 70 }))
      .toBe('RSI(14) 5m crosses above 70');
  });
});

describe('the stream client', () => {
  it('resumes only sequenced channels it has seen a seq for', () => {
    const seen = new Map([['fills', 12], ['portfolio', 3]]);
    expect(sinceFor(['fills', 'orders', 'portfolio', 'candles.binance.1m.BTCUSDT'], seen)).toEqual({ fills: 12 });
    expect(sinceFor(['orders'], seen)).toBeUndefined();
  });
  it('backs off from 1 s to at most 30 s', () => {
    expect([0, 1, 2, 5, 10].map(backoff)).toEqual([1000, 2000, 4000, 30000, 30000]);
  });
});
