import { ApiError, networkError, toApiError } from './problems';
import { session } from './session';
import type {
  Account, Alert, AlertEvent, BacktestResult, EquityPoint, Fill, IndicatorPoint, Kline, Market, Order, Plan, Portfolio,
  Strategy, StrategyLog,
} from './types';

type Query = Record<string, string | number | undefined | null>;

/** Called with every 401 so the app can return to sign-in (set by main.ts). */
let onUnauthorized: (error: ApiError) => void = () => {};
export function whenUnauthorized(handler: (error: ApiError) => void): void {
  onUnauthorized = handler;
}

export function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

async function request<T>(method: string, path: string, options: { query?: Query; json?: unknown; form?: FormData } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const key = session.apiKey;
  if (key) headers.Authorization = `Bearer ${key}`;
  let body: BodyInit | undefined;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form) {
    body = options.form;
  }
  let response: Response;
  try {
    response = await fetch(path + queryString(options.query), { method, headers, body });
  } catch {
    throw networkError();
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const error = toApiError(response.status, parsed, response.headers.get('Retry-After'));
    if (error.needsSignIn) onUnauthorized(error);
    throw error;
  }
  return parsed as T;
}

const market = (exchange: string, symbol: string) => `/api/v1/markets/${encodeURIComponent(exchange)}/${encodeURIComponent(symbol)}`;

export const api = {
  createAccount: (email: string) => request<{ userId: string; apiKey: string; keyId?: string }>('POST', '/api/v1/accounts', { json: { email } }),
  me: () => request<Account>('GET', '/api/v1/accounts/me'),
  keys: () => request<unknown>('GET', '/api/v1/accounts/me/keys'),
  rotateKey: () => request<{ apiKey: string; keyId?: string; id?: string }>('POST', '/api/v1/accounts/me/keys'),
  revokeKey: (id: string) => request<void>('DELETE', `/api/v1/accounts/me/keys/${encodeURIComponent(id)}`),
  plans: () => request<Plan[] | { plans: Plan[] }>('GET', '/api/v1/billing/plans'),
  checkout: (plan: string) => request<{ url: string }>('POST', '/api/v1/billing/checkout', { json: { plan } }),

  markets: () => request<Market[]>('GET', '/api/v1/markets'),
  klines: (exchange: string, symbol: string, query: Query) => request<Kline[]>('GET', `${market(exchange, symbol)}/klines`, { query }),
  indicator: (exchange: string, symbol: string, name: string, query: Query) =>
    request<IndicatorPoint[]>('GET', `${market(exchange, symbol)}/indicators/${encodeURIComponent(name)}`, { query }),

  placeOrder: (order: Record<string, unknown>) => request<Order>('POST', '/api/v1/orders', { json: order }),
  orders: (query: Query) => request<Order[]>('GET', '/api/v1/orders', { query }),
  cancelOrder: (id: string) => request<Order>('DELETE', `/api/v1/orders/${encodeURIComponent(id)}`),
  fills: (query: Query) => request<Fill[]>('GET', '/api/v1/fills', { query }),
  portfolio: () => request<Portfolio>('GET', '/api/v1/portfolio'),

  alerts: () => request<Alert[]>('GET', '/api/v1/alerts'),
  createAlert: (alert: Record<string, unknown>) => request<Alert>('POST', '/api/v1/alerts', { json: alert }),
  deleteAlert: (id: string) => request<void>('DELETE', `/api/v1/alerts/${encodeURIComponent(id)}`),
  alertEvents: (query: Query) => request<AlertEvent[]>('GET', '/api/v1/alerts/events', { query }),

  strategies: () => request<Strategy[]>('GET', '/api/v1/strategies'),
  uploadStrategy: (form: FormData) => request<Strategy>('POST', '/api/v1/strategies', { form }),
  strategy: (id: string) => request<Strategy>('GET', `/api/v1/strategies/${encodeURIComponent(id)}`),
  startStrategy: (id: string) => request<Strategy>('POST', `/api/v1/strategies/${encodeURIComponent(id)}/start`),
  stopStrategy: (id: string) => request<Strategy>('POST', `/api/v1/strategies/${encodeURIComponent(id)}/stop`),
  strategyLogs: (id: string) => request<StrategyLog[]>('GET', `/api/v1/strategies/${encodeURIComponent(id)}/logs`, { query: { limit: 100 } }),
  backtest: (body: Record<string, unknown>) => request<BacktestResult>('POST', '/api/v1/backtests', { json: body }),
  backtestResult: (id: string) => request<BacktestResult>('GET', `/api/v1/backtests/${encodeURIComponent(id)}`),

  performance: (query: Query) => request<Record<string, unknown>>('GET', '/api/v1/analytics/performance', { query }),
  equity: (query: Query) => request<EquityPoint[]>('GET', '/api/v1/analytics/equity', { query }),
};
