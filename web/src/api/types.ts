/** Shapes from ../shared/API.md. Numbers are decimals on the server; the browser only displays them. */
export interface Market { exchange: string; symbol: string; base: string; quote: string; exchangeSymbol: string }
export interface Kline {
  openTime: string; closeTime: string; open: number; high: number; low: number; close: number;
  volume: number; quoteVolume: number; trades: number; closed: boolean;
}
export type IndicatorPoint = { time: string } & Record<string, number | string>;
export type Side = 'buy' | 'sell';
export interface Order {
  id: string; clientOrderId?: string; exchange: string; symbol: string; side: Side; type: string;
  quantity: number; price?: number | null; stopPrice?: number | null; timeInForce: string; status: string;
  filledQuantity: number; averagePrice?: number | null; fees?: number; createdAt: string; updatedAt?: string;
}
export interface Fill {
  id?: string; orderId: string; exchange?: string; symbol?: string; side?: Side; time: string; price: number;
  quantity: number; fee: number; feeAsset: string; liquidity: string;
}
export interface Portfolio {
  balances: { asset: string; free: number; locked: number }[];
  positions: { exchange: string; symbol: string; quantity: number; averageEntryPrice: number; unrealizedPnl: number }[];
  equity: number; realizedPnl: number;
}
export interface EquityPoint { time: string; equity: number }
export interface Account { userId: string; email: string; plan: string; limits?: Record<string, unknown>; keys?: ApiKeyInfo[] }
export interface ApiKeyInfo { id?: string; keyId?: string; prefix?: string; createdAt?: string; revokedAt?: string | null }
export interface Plan { name?: string; plan?: string; price?: number | string; limits?: Record<string, unknown>; [k: string]: unknown }
export interface Alert { id: string; exchange: string; symbol: string; condition: Record<string, unknown>; repeat?: string; createdAt?: string }
export interface AlertEvent { alertId: string; time: string; price?: number; value?: number; message: string }
export interface Strategy {
  id: string; name: string; exchange: string; symbol: string; interval: string; status: string;
  fault?: { reason: string; message: string; call?: string } | null;
}
export interface StrategyLog { time: string; message: string; level?: string; [k: string]: unknown }
export interface BacktestResult {
  id?: string; status?: string;
  equityCurve?: { time: string; equity: number }[];
  fills?: { time: string; price: number; quantity: number; side?: Side; [k: string]: unknown }[];
  statistics?: Record<string, unknown>;
  source?: string; stopped?: { limit: string; message: string } | null;
  logs?: { time: string; message: string }[];
  fault?: { reason: string; message: string } | null;
}
export interface Ticker { exchange: string; symbol: string; last?: number; changePercent?: number; volume?: number }
