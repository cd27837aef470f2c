import { api } from '../api/client';
import { ApiError } from '../api/problems';
import type { Market, Order } from '../api/types';
import { enumLabel, enumValue, formatPrice, formatQuantity, formatTime } from '../format';
import { stream } from '../stream/client';
import { showError, showInfo } from '../ui/banner';
import { clear, clearFieldErrors, field, h, select, showFieldError, table } from '../ui/dom';

export const ORDER_TYPES = ['market', 'limit', 'stop_market', 'stop_limit', 'trailing_stop_market', 'trailing_stop_limit'] as const;
export const TIME_IN_FORCE = ['gtc', 'ioc', 'fok', 'gtd'] as const;

/** Which ticket fields an order type uses (the others are hidden and not sent). */
export function fieldsFor(type: string, timeInForce: string): Set<string> {
  const used = new Set(['market', 'side', 'type', 'quantity', 'timeInForce', 'clientOrderId', 'reduceOnly']);
  if (type === 'limit' || type === 'stop_limit' || type === 'trailing_stop_limit') used.add('price');
  if (type === 'limit') used.add('postOnly');
  if (type === 'stop_market' || type === 'stop_limit') used.add('stopPrice');
  if (type.startsWith('trailing_')) ['trailingAmount', 'trailingPercent', 'activationPrice'].forEach(f => used.add(f));
  if (timeInForce === 'gtd') used.add('expireAt');
  return used;
}

/** The ticket's values as the order request of API.md: numbers as numbers, empty fields left out. */
export function orderRequest(values: Record<string, string | boolean>): Record<string, unknown> {
  const type = String(values.type);
  const used = fieldsFor(type, String(values.timeInForce));
  const [exchange, symbol] = String(values.market).split('/');
  const body: Record<string, unknown> = { exchange, symbol, side: values.side, type, timeInForce: values.timeInForce };
  for (const name of ['quantity', 'price', 'stopPrice', 'trailingAmount', 'trailingPercent', 'activationPrice']) {
    const v = values[name];
    if (used.has(name) && typeof v === 'string' && v.trim() !== '') body[name] = Number(v);
  }
  if (used.has('expireAt') && typeof values.expireAt === 'string' && values.expireAt) body.expireAt = new Date(`${values.expireAt}Z`).toISOString();
  if (typeof values.clientOrderId === 'string' && values.clientOrderId.trim()) body.clientOrderId = values.clientOrderId.trim();
  if (used.has('postOnly') && values.postOnly === true) body.postOnly = true;
  if (values.reduceOnly === true) body.reduceOnly = true;
  return body;
}

const OPEN = new Set(['new', 'partially_filled', 'pending', 'accepted', 'untriggered']);

export async function renderTrade(main: HTMLElement, params: URLSearchParams): Promise<() => void> {
  const markets: Market[] = await api.markets();
  const initial = params.get('market') ?? (markets[0] ? `${markets[0].exchange}/${markets[0].symbol}` : 'binance/BTCUSDT');

  const input = (name: string, attrs: Record<string, string> = {}) =>
    h('input', { name, type: 'number', step: 'any', min: '0', inputmode: 'decimal', ...attrs });
  const controls = {
    market: select('market', markets.map(m => [`${m.exchange}/${m.symbol}`, `${m.symbol} · ${m.exchange}`]), initial),
    side: select('side', [['buy', 'Buy'], ['sell', 'Sell']]),
    type: select('type', ORDER_TYPES.map(t => [t, enumLabel(t)] as [string, string]), 'limit'),
    quantity: input('quantity', { required: 'true' }),
    price: input('price'),
    stopPrice: input('stopPrice'),
    trailingAmount: input('trailingAmount'),
    trailingPercent: input('trailingPercent'),
    activationPrice: input('activationPrice'),
    timeInForce: select('timeInForce', TIME_IN_FORCE.map(t => [t, t.toUpperCase()] as [string, string]), 'gtc'),
    expireAt: h('input', { name: 'expireAt', type: 'datetime-local' }),
    clientOrderId: h('input', { name: 'clientOrderId', type: 'text', maxlength: '64', autocomplete: 'off' }),
    postOnly: h('input', { name: 'postOnly', type: 'checkbox' }),
    reduceOnly: h('input', { name: 'reduceOnly', type: 'checkbox' }),
  };
  const labels: Record<string, string> = {
    market: 'Market', side: 'Side', type: 'Order type', quantity: 'Quantity', price: 'Limit price', stopPrice: 'Stop price',
    trailingAmount: 'Trailing amount', trailingPercent: 'Trailing percent', activationPrice: 'Activation price',
    timeInForce: 'Time in force', expireAt: 'Expires at (UTC)', clientOrderId: 'Client order id (optional)',
  };
  const wrappers = new Map<string, HTMLElement>();
  for (const [name, control] of Object.entries(controls)) {
    if (name === 'postOnly' || name === 'reduceOnly') {
      wrappers.set(name, h('div', { class: 'field check' }, h('label', {}, control, name === 'postOnly' ? ' Post only (maker or cancel)' : ' Reduce only'),
        h('p', { class: 'field-error', 'data-error-for': name })));
    } else {
      wrappers.set(name, field(labels[name], control));
    }
  }
  const submit = h('button', { type: 'submit' }, 'Place order');
  const ticket = h('form', { class: 'card ticket', 'aria-labelledby': 'ticket-title', novalidate: true },
    h('h2', { id: 'ticket-title' }, 'Order ticket'), ...wrappers.values(), submit);
  const showFields = () => {
    const used = fieldsFor(controls.type.value, controls.timeInForce.value);
    for (const [name, el] of wrappers) el.hidden = !used.has(name);
  };
  controls.type.addEventListener('change', showFields);
  controls.timeInForce.addEventListener('change', showFields);
  showFields();

  const openOrders = h('section', { 'aria-labelledby': 'open-title' });
  const fills = h('section', { 'aria-labelledby': 'fills-title' });
  main.append(h('h1', {}, 'Trade'), h('div', { class: 'grid trade' }, ticket, h('div', {}, openOrders, fills)));

  const refresh = async () => {
    const [orders, recentFills] = await Promise.all([api.orders({ limit: 200 }), api.fills({ limit: 50 })]);
    const open = orders.filter(o => OPEN.has(enumValue(o.status)));
    clear(openOrders, h('h2', { id: 'open-title' }, 'Open orders'), table(
      ['Created', 'Market', 'Side', 'Type', 'Price', 'Stop', 'Quantity', 'Filled', 'Status', ''],
      open.map((o: Order) => [
        formatTime(o.createdAt), `${o.symbol} · ${o.exchange}`, enumLabel(o.side), enumLabel(o.type),
        formatPrice(o.price), formatPrice(o.stopPrice), formatQuantity(o.quantity), formatQuantity(o.filledQuantity), enumLabel(o.status),
        h('button', { type: 'button', class: 'small', 'data-cancel': o.id, 'aria-label': `Cancel ${enumLabel(o.side)} ${o.symbol} at ${formatPrice(o.price ?? o.stopPrice)}`,
          onclick: async () => {
            try {
              await api.cancelOrder(o.id);
              showInfo('Order canceled.');
              await refresh();
            } catch (error) {
              showError(error);
            }
          } }, 'Cancel'),
      ]), undefined, 'No open orders.'));
    openOrders.querySelector('table')?.setAttribute('id', 'open-orders');
    const sideOf = new Map(orders.map(o => [o.id, o]));
    clear(fills, h('h2', { id: 'fills-title' }, 'Fills'), table(
      ['Time', 'Market', 'Side', 'Price', 'Quantity', 'Fee', 'Liquidity'],
      [...recentFills].reverse().map(f => {
        const o = sideOf.get(f.orderId);
        return [formatTime(f.time), o ? `${o.symbol} · ${o.exchange}` : (f.symbol ?? ''), enumLabel(f.side ?? o?.side), formatPrice(f.price),
          formatQuantity(f.quantity), `${formatQuantity(f.fee)} ${f.feeAsset}`, enumLabel(f.liquidity)];
      }), undefined, 'No fills yet.'));
    fills.querySelector('table')?.setAttribute('id', 'fills');
  };

  ticket.addEventListener('submit', async event => {
    event.preventDefault();
    clearFieldErrors(ticket);
    const values: Record<string, string | boolean> = {};
    for (const [name, control] of Object.entries(controls)) {
      values[name] = control instanceof HTMLInputElement && control.type === 'checkbox' ? control.checked : control.value;
    }
    if (!String(values.quantity).trim()) {
      showFieldError(ticket, 'quantity', 'Enter a quantity.');
      return;
    }
    submit.disabled = true;
    try {
      const order = await api.placeOrder(orderRequest(values));
      showInfo(`Order placed: ${enumLabel(order.side)} ${formatQuantity(order.quantity)} ${order.symbol}, ${enumLabel(order.status)}.`);
      await refresh();
    } catch (error) {
      if (error instanceof ApiError && showFieldError(ticket, error.field === 'exchange' || error.field === 'symbol' ? 'market' : error.field, error.message)) return;
      showError(error);
    } finally {
      submit.disabled = false;
    }
  });

  await refresh();
  const again = () => void refresh().catch(showError);
  const undo = [stream.subscribe('orders', again, again), stream.subscribe('fills', again, again)];
  return () => undo.forEach(u => u());
}
