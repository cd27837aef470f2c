/** Display formatting. Values arrive as JSON numbers (server decimals); the browser never computes balances. */

export function formatPrice(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  const abs = Math.abs(value);
  const digits = abs >= 1000 ? 2 : abs >= 1 ? 4 : abs === 0 ? 2 : 8;
  return value.toLocaleString('en-US', { minimumFractionDigits: Math.min(2, digits), maximumFractionDigits: digits });
}

export function formatQuantity(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return value.toLocaleString('en-US', { maximumFractionDigits: 8 });
}

export function formatMoney(value: number | null | undefined, currency = 'USDT'): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return `${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`;
}

/** A ratio (0.0123) as a signed percent (+1.23 %). */
export function formatPercent(ratio: number | null | undefined, signed = true): string {
  if (ratio === null || ratio === undefined || Number.isNaN(ratio)) return '–';
  const pct = ratio * 100;
  const text = `${Math.abs(pct).toFixed(2)} %`;
  if (!signed) return `${pct < 0 ? '−' : ''}${text}`;
  return pct > 0 ? `+${text}` : pct < 0 ? `−${text}` : text;
}

/** Compact volumes: 1234567 → 1.23M. */
export function formatCompact(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return value.toLocaleString('en-US', { notation: 'compact', maximumFractionDigits: 2 });
}

/** ISO time → `2024-03-01 00:01:00 UTC` (every time in the app is UTC, like the API). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A statistic's camelCase name as a label: maxDrawdown → Max drawdown. */
export function labelOf(name: string): string {
  const spaced = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/** A statistic's value: ratios named like returns and drawdowns as percents, other numbers plainly. */
export function formatStatistic(name: string, value: unknown): string {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'number') {
    if (/return|drawdown|winrate|volatility/i.test(name)) return formatPercent(value, false);
    if (Number.isInteger(value)) return value.toLocaleString('en-US');
    return value.toLocaleString('en-US', { maximumFractionDigits: 4 });
  }
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value)) return formatTime(value);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Enum text from either spelling the services use (`PartiallyFilled`, `partially_filled`) → `partially_filled`. */
export function enumValue(value: string | null | undefined): string {
  if (!value) return '';
  return value.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** Enum text for people: `stop_limit` → `stop limit`. */
export function enumLabel(value: string | null | undefined): string {
  return enumValue(value).replace(/_/g, ' ');
}
