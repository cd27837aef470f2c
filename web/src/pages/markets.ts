import { api } from '../api/client';
import type { Kline, Market } from '../api/types';
import { formatCompact, formatPercent, formatPrice } from '../format';
import { h, table } from '../ui/dom';

/** Last price, 24 h change and volume of a market, from its last 24 hourly klines. */
export function daySummary(klines: Kline[]): { last?: number; change?: number; volume?: number } {
  if (klines.length === 0) return {};
  const first = klines[0];
  const last = klines[klines.length - 1];
  const volume = klines.reduce((sum, k) => sum + k.volume, 0);
  return { last: last.close, change: first.open ? last.close / first.open - 1 : undefined, volume };
}

export async function renderMarkets(main: HTMLElement): Promise<void> {
  main.append(h('h1', {}, 'Markets'));
  const markets: Market[] = await api.markets();
  const summaries = await Promise.all(markets.map(m =>
    api.klines(m.exchange, m.symbol, { interval: '1h', limit: 24 }).then(daySummary, () => ({}) as ReturnType<typeof daySummary>)));
  const rows = markets.map((m, i) => {
    const s = summaries[i];
    const href = `#/chart/${m.exchange}/${m.symbol}`;
    return [
      h('a', { href }, `${m.symbol}`),
      m.exchange,
      h('span', { class: 'num' }, formatPrice(s.last)),
      h('span', { class: `num ${s.change === undefined ? '' : s.change >= 0 ? 'up' : 'down'}` }, formatPercent(s.change)),
      h('span', { class: 'num' }, formatCompact(s.volume)),
    ];
  });
  main.append(table(['Market', 'Exchange', 'Last', '24 h', 'Volume (24 h, base)'], rows, undefined, 'No markets are being ingested.'));
}
