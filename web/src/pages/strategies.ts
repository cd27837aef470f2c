import { LineSeries, createSeriesMarkers } from 'lightweight-charts';
import { api } from '../api/client';
import { ApiError } from '../api/problems';
import type { BacktestResult, Market, Strategy } from '../api/types';
import { INTERVALS, toEquityLine, toFillMarkers, INTERVAL_SECONDS, type Interval } from '../chart/series';
import { darkChart } from '../chart/theme';
import { enumLabel, enumValue, formatTime } from '../format';
import { stream } from '../stream/client';
import { showError, showInfo } from '../ui/banner';
import { clear, clearFieldErrors, field, h, select, showFieldError, table } from '../ui/dom';
import { statisticRows } from './portfolio';

declare global {
  interface Window { qtBacktest?: { equityPoints: () => number } }
}

/** A `datetime-local` value (no zone; the app's times are UTC) → ISO. */
export function utcFromLocalInput(value: string): string {
  return new Date(`${value.length === 16 ? `${value}:00` : value}Z`).toISOString();
}

export async function renderStrategies(main: HTMLElement): Promise<() => void> {
  const markets: Market[] = await api.markets();
  // A strategy may trade any market with stored klines (imported history too), so the symbol is typed, with the
  // ingested ones offered.
  const knownSymbols = h('datalist', { id: 'known-symbols' }, ...[...new Set(markets.map(m => m.symbol))].map(s => h('option', { value: s })));

  // Upload
  const up = {
    module: h('input', { name: 'module', type: 'file', accept: '.wasm,.wat', required: true }),
    name: h('input', { name: 'name', type: 'text', required: true, maxlength: '100' }),
    exchange: select('exchange', ['binance', 'okx', 'bybit'], markets[0]?.exchange),
    symbol: h('input', { name: 'symbol', type: 'text', required: true, list: 'known-symbols', autocapitalize: 'characters', value: markets[0]?.symbol ?? 'BTCUSDT' }),
    interval: select('interval', [...INTERVALS], '1m'),
    parameters: h('textarea', { name: 'parameters', rows: '3', spellcheck: 'false' }, '{}'),
  };
  const upload = h('form', { class: 'card', 'aria-labelledby': 'upload-title' }, h('h2', { id: 'upload-title' }, 'Upload a strategy'),
    field('Module (.wasm or .wat)', up.module), field('Name', up.name), field('Exchange', up.exchange), field('Symbol', up.symbol), knownSymbols, field('Interval', up.interval),
    field('Parameters (JSON)', up.parameters), h('button', { type: 'submit' }, 'Upload'));

  // Backtest
  const today = new Date();
  const bt = {
    strategyId: select('strategyId', []),
    from: h('input', { name: 'from', type: 'datetime-local', required: true, value: new Date(today.getTime() - 86_400_000).toISOString().slice(0, 16) }),
    to: h('input', { name: 'to', type: 'datetime-local', required: true, value: today.toISOString().slice(0, 16) }),
    initialBalance: h('input', { name: 'initialBalance', type: 'number', step: 'any', min: '0', value: '10000' }),
  };
  const runButton = h('button', { type: 'submit' }, 'Run backtest');
  const backtest = h('form', { class: 'card', 'aria-labelledby': 'bt-title' }, h('h2', { id: 'bt-title' }, 'Backtest'),
    field('Strategy', bt.strategyId), field('From (UTC)', bt.from), field('To (UTC)', bt.to), field('Initial balance (USDT)', bt.initialBalance), runButton);

  const list = h('section', { 'aria-labelledby': 'strategies-title' });
  const logs = h('section', { 'aria-labelledby': 'logs-title', class: 'logs' });
  const result = h('section', { 'aria-labelledby': 'result-title', id: 'backtest-result' });
  main.append(h('h1', {}, 'Strategies'), h('div', { class: 'grid two' }, upload, backtest), list, logs, result);

  let strategies: Strategy[] = [];
  let watching: string | undefined;
  const drawList = async () => {
    strategies = await api.strategies();
    const keep = bt.strategyId.value;
    clear(bt.strategyId, ...strategies.map(s => h('option', { value: s.id, selected: s.id === keep }, `${s.name} (${s.symbol} ${s.interval})`)));
    clear(list, h('h2', { id: 'strategies-title' }, 'Your strategies'), table(['Name', 'Market', 'Interval', 'Status', ''],
      strategies.map(s => [
        s.name, `${s.symbol} · ${s.exchange}`, s.interval,
        h('span', { class: `status ${enumValue(s.status)}` }, enumLabel(s.status), s.fault ? ` — ${s.fault.reason}: ${s.fault.message}` : ''),
        h('div', { class: 'row' },
          enumValue(s.status) === 'running'
            ? h('button', { type: 'button', class: 'small', onclick: () => act(() => api.stopStrategy(s.id), 'Strategy stopped.') }, 'Stop')
            : h('button', { type: 'button', class: 'small', onclick: () => act(() => api.startStrategy(s.id), 'Strategy started.') }, 'Start'),
          h('button', { type: 'button', class: 'small', onclick: () => void showLogs(s) }, 'Logs')),
      ]), undefined, 'No strategies yet: upload one.'));
    list.querySelector('table')?.setAttribute('id', 'strategies');
  };
  const act = async (action: () => Promise<unknown>, done: string) => {
    try {
      await action();
      showInfo(done);
      await drawList();
    } catch (error) {
      showError(error);
    }
  };
  const showLogs = async (s: Strategy) => {
    watching = s.id;
    try {
      const lines = await api.strategyLogs(s.id);
      clear(logs, h('h2', { id: 'logs-title' }, `Logs: ${s.name}`),
        h('pre', { tabindex: '0', 'aria-label': `Logs of ${s.name}` }, lines.map(l => `${formatTime(l.time)}  ${l.message}`).join('\n') || 'Nothing logged yet.'));
    } catch (error) {
      showError(error);
    }
  };

  upload.addEventListener('submit', async event => {
    event.preventDefault();
    clearFieldErrors(upload);
    const file = up.module.files?.[0];
    if (!file) {
      showFieldError(upload, 'module', 'Choose a .wasm or .wat file.');
      return;
    }
    const exchange = up.exchange.value;
    const symbol = up.symbol.value.trim().toUpperCase();
    const form = new FormData();
    form.set('module', file, file.name);
    form.set('name', up.name.value.trim() || file.name);
    form.set('exchange', exchange);
    form.set('symbol', symbol);
    form.set('interval', up.interval.value);
    form.set('parameters', up.parameters.value.trim() || '{}');
    try {
      const created = await api.uploadStrategy(form);
      showInfo(`Strategy "${created.name}" uploaded.`);
      await drawList();
      bt.strategyId.value = created.id;
    } catch (error) {
      if (error instanceof ApiError && showFieldError(upload, error.field, error.message)) return;
      showError(error);
    }
  });

  let resultChart: ReturnType<typeof darkChart> | undefined;
  backtest.addEventListener('submit', async event => {
    event.preventDefault();
    clearFieldErrors(backtest);
    const strategy = strategies.find(s => s.id === bt.strategyId.value);
    if (!strategy) {
      showFieldError(backtest, 'strategyId', 'Upload a strategy first.');
      return;
    }
    runButton.disabled = true;
    clear(result, h('p', { role: 'status' }, 'Running…'));
    try {
      let r: BacktestResult = await api.backtest({
        strategyId: strategy.id, from: utcFromLocalInput(bt.from.value), to: utcFromLocalInput(bt.to.value),
        initialBalance: bt.initialBalance.value ? Number(bt.initialBalance.value) : undefined,
      });
      // A backtest run as a job answers 202 {id}: poll until it has its result.
      while (!r.equityCurve && r.id && !['failed', 'canceled'].includes(enumValue(r.status))) {
        await new Promise(resolve => setTimeout(resolve, 1000));
        r = await api.backtestResult(r.id);
      }
      resultChart?.remove();
      resultChart = drawBacktest(result, r, strategy.interval as Interval);
    } catch (error) {
      clear(result);
      if (error instanceof ApiError && showFieldError(backtest, error.field, error.message)) return;
      showError(error);
    } finally {
      runButton.disabled = false;
    }
  });

  await drawList();
  const undo = stream.subscribe('strategies', m => {
    const d = m.data as { strategyId?: string; kind?: string };
    if (d.kind === 'status') void drawList().catch(showError);
    else if (d.strategyId && d.strategyId === watching) {
      const s = strategies.find(x => x.id === watching);
      if (s) void showLogs(s);
    }
  });
  return () => {
    undo();
    resultChart?.remove();
    delete window.qtBacktest;
  };
}

function drawBacktest(section: HTMLElement, r: BacktestResult, interval: Interval) {
  const curve = toEquityLine(r.equityCurve ?? []);
  const box = h('div', { class: 'chart', id: 'backtest-chart', role: 'img', 'aria-label': 'Backtest equity curve' });
  const notes = [
    r.source ? `Source: ${r.source}.` : '',
    r.stopped ? `Stopped early: ${r.stopped.message}` : '',
    r.fault ? `The strategy faulted (${r.fault.reason}): ${r.fault.message}` : '',
  ].filter(Boolean).join(' ');
  clear(section, h('h2', { id: 'result-title' }, 'Backtest result'), notes ? h('p', {}, notes) : null, box,
    h('h3', {}, 'Statistics'), table(['Statistic', 'Value'], statisticRows(r.statistics ?? {}), undefined, 'No statistics.'),
    h('h3', {}, 'Fills'), table(['Time', 'Side', 'Price', 'Quantity'],
      (r.fills ?? []).map(f => [formatTime(f.time), enumLabel(f.side), String(f.price), String(f.quantity)]), undefined, 'The strategy did not trade.'),
    h('h3', {}, 'Log'), h('pre', { tabindex: '0', 'aria-label': 'Backtest log' },
      (r.logs ?? []).map(l => `${formatTime(l.time)}  ${l.message}`).join('\n') || 'Nothing logged.'));
  section.querySelectorAll('table')[1]?.setAttribute('id', 'backtest-fills');
  const chart = darkChart(box);
  const series = chart.addSeries(LineSeries, { color: '#2962ff', lineWidth: 2, title: 'Equity' });
  series.setData(curve);
  const fills = (r.fills ?? []).map(f => ({ orderId: '', time: f.time, price: f.price, quantity: f.quantity, fee: 0, feeAsset: '', liquidity: '', side: enumValue(f.side) as 'buy' | 'sell' }));
  const seconds = INTERVAL_SECONDS[interval] ?? 60;
  const times = new Set(curve.map(p => p.time as number));
  createSeriesMarkers(series, toFillMarkers(fills, seconds).filter(m => times.has(m.time)));
  chart.timeScale().fitContent();
  window.qtBacktest = { equityPoints: () => series.data().length };
  return chart;
}
