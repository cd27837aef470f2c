import { LineSeries, BaselineSeries } from 'lightweight-charts';
import { api } from '../api/client';
import { drawdown, toEquityLine } from '../chart/series';
import { darkChart } from '../chart/theme';
import { formatMoney, formatPrice, formatQuantity, formatStatistic, labelOf } from '../format';
import { stream } from '../stream/client';
import { showError } from '../ui/banner';
import { clear, h, table } from '../ui/dom';

/** Statistics that are lists or nested objects are left out of the table. */
export function statisticRows(stats: Record<string, unknown>): [string, string][] {
  return Object.entries(stats)
    .filter(([, v]) => v === null || typeof v !== 'object')
    .map(([k, v]) => [labelOf(k), formatStatistic(k, v)]);
}

export async function renderPortfolio(main: HTMLElement): Promise<() => void> {
  const summary = h('section', { 'aria-labelledby': 'summary-title' });
  const chartBox = h('div', { class: 'chart', id: 'equity-chart', role: 'img', 'aria-label': 'Equity curve and drawdown' });
  const stats = h('section', { 'aria-labelledby': 'stats-title' });
  main.append(h('h1', {}, 'Portfolio'), summary,
    h('section', { 'aria-labelledby': 'equity-title' }, h('h2', { id: 'equity-title' }, 'Equity and drawdown'), chartBox), stats);

  const drawSummary = async () => {
    const p = await api.portfolio();
    clear(summary, h('h2', { id: 'summary-title' }, 'Balances and positions'),
      h('dl', { class: 'figures' },
        h('div', {}, h('dt', {}, 'Equity'), h('dd', { id: 'equity' }, formatMoney(p.equity))),
        h('div', {}, h('dt', {}, 'Realized PnL'), h('dd', {}, formatMoney(p.realizedPnl)))),
      table(['Asset', 'Free', 'Locked'], p.balances.map(b => [b.asset, formatQuantity(b.free), formatQuantity(b.locked)]), 'Balances', 'No balances.'),
      table(['Market', 'Quantity', 'Average entry', 'Unrealized PnL'],
        p.positions.map(x => [`${x.symbol} · ${x.exchange}`, formatQuantity(x.quantity), formatPrice(x.averageEntryPrice), formatMoney(x.unrealizedPnl)]),
        'Positions', 'No open positions.'));
    summary.querySelectorAll('table')[0]?.setAttribute('id', 'balances');
    summary.querySelectorAll('table')[1]?.setAttribute('id', 'positions');
  };
  await drawSummary();

  const now = new Date();
  const from = new Date(now.getTime() - 30 * 86_400_000).toISOString();
  const [equity, performance] = await Promise.all([
    api.equity({ from, interval: '1h' }).catch(e => { showError(e); return []; }),
    api.performance({ from }).catch(e => { showError(e); return {}; }),
  ]);
  const chart = darkChart(chartBox);
  const line = toEquityLine(equity);
  chart.addSeries(LineSeries, { color: '#2962ff', lineWidth: 2, title: 'Equity' }).setData(line);
  chart.addSeries(BaselineSeries, {
    baseValue: { type: 'price', price: 0 }, topLineColor: '#26a69a', bottomLineColor: '#ef5350',
    bottomFillColor1: 'rgba(239,83,80,0.3)', bottomFillColor2: 'rgba(239,83,80,0.05)', title: 'Drawdown',
    priceFormat: { type: 'percent' },
  }, 1).setData(drawdown(line).map(p => ({ ...p, value: p.value * 100 })));
  chart.timeScale().fitContent();
  if (line.length === 0) chartBox.before(h('p', { class: 'empty' }, 'No equity history yet: it starts with your first fill.'));

  clear(stats, h('h2', { id: 'stats-title' }, 'Performance (30 days)'),
    table(['Statistic', 'Value'], statisticRows(performance), undefined, 'No statistics yet.'));

  const undo = stream.subscribe('portfolio', () => void drawSummary().catch(showError));
  return () => {
    undo();
    chart.remove();
  };
}
