import { api } from '../api/client';
import { ApiError } from '../api/problems';
import type { Alert, AlertEvent, Market } from '../api/types';
import { INTERVALS } from '../chart/series';
import { formatPrice, formatTime } from '../format';
import { stream } from '../stream/client';
import { showError, showInfo } from '../ui/banner';
import { clear, clearFieldErrors, field, h, select, showFieldError, table } from '../ui/dom';

export const CONDITIONS = ['price_above', 'price_below', 'price_crosses_above', 'price_crosses_below', 'percent_change', 'indicator'] as const;

/** The alert form's values as API.md's alert request. */
export function alertRequest(v: Record<string, string>): Record<string, unknown> {
  const [exchange, symbol] = v.market.split('/');
  const value = Number(v.value);
  let condition: Record<string, unknown>;
  if (v.conditionType === 'percent_change') condition = { type: 'percent_change', window: v.window, value };
  else if (v.conditionType === 'indicator') {
    condition = {
      type: 'indicator', operator: v.operator, value,
      indicator: { name: v.indicator, interval: v.interval, params: v.period ? { period: Number(v.period) } : {} },
    };
  } else condition = { type: v.conditionType, value };
  return { exchange, symbol, condition, repeat: v.repeat };
}

export function describeCondition(c: Record<string, unknown>): string {
  const type = String(c.type ?? '');
  if (type === 'percent_change') return `changes ${c.value} % within ${c.window}`;
  if (type === 'indicator') {
    const ind = (c.indicator ?? {}) as { name?: string; interval?: string; params?: Record<string, unknown> };
    const params = Object.values(ind.params ?? {}).join(',');
    return `${String(ind.name).toUpperCase()}${params ? `(${params})` : ''} ${ind.interval} ${String(c.operator).replace(/_/g, ' ')} ${c.value}`;
  }
  return `${type.replace(/_/g, ' ')} ${formatPrice(Number(c.value))}`;
}

export async function renderAlerts(main: HTMLElement): Promise<() => void> {
  const markets: Market[] = await api.markets();
  const c = {
    market: select('market', markets.map(m => [`${m.exchange}/${m.symbol}`, `${m.symbol} · ${m.exchange}`])),
    conditionType: select('conditionType', CONDITIONS.map(t => [t, t.replace(/_/g, ' ')] as [string, string])),
    value: h('input', { name: 'value', type: 'number', step: 'any', required: true }),
    window: select('window', ['1m', '5m', '15m', '1h', '4h', '1d'], '15m'),
    indicator: select('indicator', ['rsi', 'sma', 'ema', 'macd', 'cci', 'mfi', 'willr', 'roc'], 'rsi'),
    interval: select('interval', [...INTERVALS], '5m'),
    period: h('input', { name: 'period', type: 'number', min: '1', step: '1', value: '14' }),
    operator: select('operator', ['above', 'below', 'crosses_above', 'crosses_below'].map(o => [o, o.replace('_', ' ')] as [string, string])),
    repeat: select('repeat', [['once', 'Once'], ['every', 'Every time']]),
  };
  const labels: Record<string, string> = {
    market: 'Market', conditionType: 'Condition', value: 'Value (price, percent or indicator level)', window: 'Window',
    indicator: 'Indicator', interval: 'Interval', period: 'Period', operator: 'Operator', repeat: 'Repeat',
  };
  const wrappers = new Map(Object.entries(c).map(([k, el]) => [k, field(labels[k], el)]));
  const form = h('form', { class: 'card', 'aria-labelledby': 'new-alert' }, h('h2', { id: 'new-alert' }, 'New alert'), ...wrappers.values(),
    h('button', { type: 'submit' }, 'Create alert'));
  const show = () => {
    const t = c.conditionType.value;
    wrappers.get('window')!.hidden = t !== 'percent_change';
    for (const k of ['indicator', 'interval', 'period', 'operator']) wrappers.get(k)!.hidden = t !== 'indicator';
  };
  c.conditionType.addEventListener('change', show);
  show();

  const list = h('section', { 'aria-labelledby': 'alerts-title' });
  const events = h('section', { 'aria-labelledby': 'events-title' });
  main.append(h('h1', {}, 'Alerts'), h('div', { class: 'grid trade' }, form, h('div', {}, list, events)));

  const drawList = async () => {
    const alerts: Alert[] = await api.alerts();
    clear(list, h('h2', { id: 'alerts-title' }, 'Your alerts'), table(['Market', 'Condition', 'Repeat', ''],
      alerts.map(a => [`${a.symbol} · ${a.exchange}`, describeCondition(a.condition), a.repeat ?? 'once',
        h('button', { type: 'button', class: 'small', 'aria-label': `Delete alert on ${a.symbol}`, onclick: async () => {
          try {
            await api.deleteAlert(a.id);
            await drawList();
          } catch (error) {
            showError(error);
          }
        } }, 'Delete')]), undefined, 'No alerts yet.'));
    list.querySelector('table')?.setAttribute('id', 'alerts');
  };
  let fired: AlertEvent[] = [];
  const drawEvents = () => {
    clear(events, h('h2', { id: 'events-title' }, 'Fired'), table(['Time', 'Price', 'Message'],
      [...fired].reverse().map(e => [formatTime(e.time), formatPrice(e.price), e.message]), undefined, 'Nothing has fired yet.'));
    events.querySelector('table')?.setAttribute('id', 'alert-events');
  };
  const loadEvents = async () => {
    fired = await api.alertEvents({ limit: 50 });
    drawEvents();
  };

  form.addEventListener('submit', async event => {
    event.preventDefault();
    clearFieldErrors(form);
    if (!c.value.value.trim()) {
      showFieldError(form, 'value', 'Enter a value.');
      return;
    }
    const values = Object.fromEntries(Object.entries(c).map(([k, el]) => [k, el.value]));
    try {
      await api.createAlert(alertRequest(values));
      showInfo('Alert created.');
      await drawList();
    } catch (error) {
      const name = error instanceof ApiError ? (error.field === 'type' ? 'conditionType' : error.field) : undefined;
      if (error instanceof ApiError && showFieldError(form, name, error.message)) return;
      showError(error);
    }
  });

  await Promise.all([drawList(), loadEvents()]);
  const undo = stream.subscribe('alerts', m => {
    fired = [...fired, m.data as AlertEvent].slice(-50);
    drawEvents();
  }, () => void loadEvents().catch(showError));
  return undo;
}
