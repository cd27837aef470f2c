import {
  CandlestickSeries, HistogramSeries, LineSeries, createSeriesMarkers, type IChartApi, type IPriceLine, type ISeriesApi,
  type ISeriesMarkersPluginApi, type Time,
} from 'lightweight-charts';
import { api } from '../api/client';
import { session } from '../api/session';
import type { Kline, Market, Order } from '../api/types';
import {
  INTERVALS, INTERVAL_SECONDS, applyKline, toCandles, toFillMarkers, toHistogram, toLine, toOrderLines, toVolumes,
  type Interval,
} from '../chart/series';
import { darkChart } from '../chart/theme';
import { enumValue, formatPrice } from '../format';
import { stream } from '../stream/client';
import { showError } from '../ui/banner';
import { h, select } from '../ui/dom';
import { navigate } from '../ui/navigate';

const BARS = 300;
const OPEN_STATUSES = new Set(['new', 'partially_filled', 'pending', 'accepted', 'untriggered']);

/** What the browser tests read from the chart (the series' own data, not what the page meant to draw). */
declare global {
  interface Window {
    qtChart?: {
      candles: () => { time: number; open: number; high: number; low: number; close: number }[];
      priceLines: () => { price: number; title: string }[];
      markers: () => { time: number; text?: string }[];
      interval: Interval;
      exchange: string;
      symbol: string;
    };
  }
}

interface Overlays { sma: boolean; ema: boolean; bb: boolean; rsi: boolean; macd: boolean }

export async function renderChart(main: HTMLElement, params: URLSearchParams, path: string[]): Promise<() => void> {
  const markets: Market[] = await api.markets();
  const exchange = path[0] ?? markets[0]?.exchange ?? 'binance';
  const symbol = path[1] ?? markets[0]?.symbol ?? 'BTCUSDT';
  const interval = (INTERVALS as readonly string[]).includes(params.get('interval') ?? '') ? params.get('interval') as Interval : '1m';
  const overlays: Overlays = {
    sma: params.get('sma') === '1', ema: params.get('ema') === '1', bb: params.get('bb') === '1',
    rsi: params.get('rsi') === '1', macd: params.get('macd') === '1',
  };
  const go = (next: { market?: string; interval?: string; overlays?: Overlays }) => {
    const m = next.market ?? `${exchange}/${symbol}`;
    const o = next.overlays ?? overlays;
    const q = new URLSearchParams({ interval: next.interval ?? interval });
    for (const [k, on] of Object.entries(o)) if (on) q.set(k, '1');
    navigate(`chart/${m}?${q}`);
  };

  // A market with stored klines but no live feed (imported history) is charted too, and named in the list.
  const listed = markets.some(m => m.exchange === exchange && m.symbol === symbol) ? markets : [...markets, { exchange, symbol } as Market];
  const marketSelect = select('market', listed.map(m => [`${m.exchange}/${m.symbol}`, `${m.symbol} · ${m.exchange}`]), `${exchange}/${symbol}`);
  marketSelect.addEventListener('change', () => go({ market: marketSelect.value }));
  const intervalButtons = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Interval' },
    ...INTERVALS.map(i => h('button', { type: 'button', 'aria-pressed': String(i === interval), 'data-interval': i, onclick: () => go({ interval: i }) }, i)));
  const toggles = h('fieldset', { class: 'toggles' }, h('legend', {}, 'Indicators'),
    ...([['sma', 'SMA 20'], ['ema', 'EMA 50'], ['bb', 'Bollinger 20, 2'], ['rsi', 'RSI 14'], ['macd', 'MACD 12/26/9']] as [keyof Overlays, string][])
      .map(([key, label]) => h('label', {}, h('input', {
        type: 'checkbox', name: key, checked: overlays[key],
        onchange: (e: Event) => go({ overlays: { ...overlays, [key]: (e.target as HTMLInputElement).checked } }),
      }), ` ${label}`)));
  const last = h('span', { class: 'num last-price', 'aria-live': 'off' });
  const container = h('div', { class: `chart ${overlays.rsi || overlays.macd ? 'tall' : ''}`, id: 'chart', role: 'img', 'aria-label': `${symbol} ${interval} candles` });

  main.append(
    h('div', { class: 'chart-head' }, h('h1', {}, `${symbol} `, h('small', {}, exchange)), last),
    h('div', { class: 'toolbar' }, h('label', { class: 'inline' }, 'Market ', marketSelect), intervalButtons),
    toggles,
    container);

  const chart: IChartApi = darkChart(container);
  const candles = chart.addSeries(CandlestickSeries, { upColor: '#26a69a', downColor: '#ef5350', borderVisible: false, wickUpColor: '#26a69a', wickDownColor: '#ef5350' });
  const volume = chart.addSeries(HistogramSeries, { priceFormat: { type: 'volume' }, priceScaleId: 'volume', lastValueVisible: false, priceLineVisible: false });
  chart.priceScale('volume').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  const markers: ISeriesMarkersPluginApi<Time> = createSeriesMarkers(candles, []);

  const klines: Kline[] = await api.klines(exchange, symbol, { interval, limit: BARS });
  const candleData = toCandles(klines);
  candles.setData(candleData);
  volume.setData(toVolumes(klines));
  last.textContent = formatPrice(klines[klines.length - 1]?.close);

  const from = klines[0]?.openTime;
  const undo: (() => void)[] = [];
  if (from) await drawIndicators(chart, exchange, symbol, interval, from, overlays);
  // A few bars stretched over the whole width read as blocks, not candles: only a long history is fitted.
  if (klines.length >= 60) chart.timeScale().fitContent();

  // The user's own orders and fills on this market: price lines and markers, redrawn on every change.
  let lines: IPriceLine[] = [];
  const drawOwn = async () => {
    if (!session.apiKey || !from) return;
    const [orders, fills] = await Promise.all([
      api.orders({ symbol, limit: 500 }),
      api.fills({ from, limit: 1000 }),
    ]);
    const mine = orders.filter(o => o.exchange === exchange && o.symbol === symbol);
    const byId = new Map<string, Order>(orders.map(o => [o.id, o]));
    const open = mine.filter(o => OPEN_STATUSES.has(enumValue(o.status)));
    lines.forEach(l => candles.removePriceLine(l));
    lines = toOrderLines(open.map(o => ({ ...o, side: enumValue(o.side) as Order['side'], type: enumValue(o.type) })))
      .map(l => candles.createPriceLine({ price: l.price, color: l.color, title: l.title, lineWidth: 1, lineStyle: 2, axisLabelVisible: true }));
    const ownFills = fills.filter(f => {
      const o = byId.get(f.orderId);
      return (f.symbol ?? o?.symbol) === symbol && (f.exchange ?? o?.exchange) === exchange;
    });
    markers.setMarkers(toFillMarkers(ownFills.map(f => ({ ...f, side: f.side ? enumValue(f.side) as Order['side'] : undefined })),
      INTERVAL_SECONDS[interval], id => enumValue(byId.get(id)?.side)));
  };
  await drawOwn().catch(showError);

  undo.push(stream.subscribe(`candles.${exchange}.${interval}.${symbol}`, message => {
    const k = message.data as Kline;
    const bar = applyKline(candleData, k);
    if (!bar) return;
    candles.update(bar);
    volume.update(toVolumes([k])[0]);
    last.textContent = formatPrice(k.close);
  }));
  if (session.apiKey) {
    const redraw = () => void drawOwn().catch(showError);
    undo.push(stream.subscribe('orders', redraw, redraw));
    undo.push(stream.subscribe('fills', redraw, redraw));
  }

  window.qtChart = {
    candles: () => candles.data().map(d => ({ ...(d as { time: number; open: number; high: number; low: number; close: number }) })),
    priceLines: () => lines.map(l => ({ price: l.options().price, title: l.options().title })),
    markers: () => markers.markers().map(m => ({ time: m.time as number, text: m.text })),
    interval, exchange, symbol,
  };

  return () => {
    undo.forEach(u => u());
    delete window.qtChart;
    chart.remove();
  };
}

async function drawIndicators(chart: IChartApi, exchange: string, symbol: string, interval: Interval, from: string, o: Overlays): Promise<void> {
  const get = (name: string, extra: Record<string, number> = {}) => api.indicator(exchange, symbol, name, { interval, from, limit: 1000, ...extra });
  // Series are added before any data arrives so the panes keep their order (RSI above MACD) whatever answers first.
  const line = (color: string, pane = 0, title = ''): ISeriesApi<'Line'> =>
    chart.addSeries(LineSeries, { color, lineWidth: 1, priceLineVisible: false, lastValueVisible: false, title }, pane);
  let pane = 0;
  const jobs: Promise<void>[] = [];
  if (o.sma) {
    const sma = line('#f0b90b', 0, 'SMA 20');
    jobs.push(get('sma', { period: 20 }).then(p => sma.setData(toLine(p))));
  }
  if (o.ema) {
    const ema = line('#2962ff', 0, 'EMA 50');
    jobs.push(get('ema', { period: 50 }).then(p => ema.setData(toLine(p))));
  }
  if (o.bb) {
    const [upper, middle, lower] = [line('#9c27b0', 0, 'BB upper'), line('#9c27b0', 0, 'BB mid'), line('#9c27b0', 0, 'BB lower')];
    jobs.push(get('bb', { period: 20, stdDev: 2 }).then(p => {
      upper.setData(toLine(p, 'upper'));
      middle.setData(toLine(p, 'middle'));
      lower.setData(toLine(p, 'lower'));
    }));
  }
  if (o.rsi) {
    const rsi = line('#ff9800', ++pane, 'RSI 14');
    jobs.push(get('rsi', { period: 14 }).then(p => rsi.setData(toLine(p))));
  }
  if (o.macd) {
    const macdPane = ++pane;
    const histogram = chart.addSeries(HistogramSeries, { priceLineVisible: false, lastValueVisible: false }, macdPane);
    const macd = line('#2962ff', macdPane, 'MACD');
    const signal = line('#ff6d00', macdPane, 'signal');
    jobs.push(get('macd', { fast: 12, slow: 26, signal: 9 }).then(p => {
      histogram.setData(toHistogram(p));
      macd.setData(toLine(p, 'macd'));
      signal.setData(toLine(p, 'signal'));
    }));
  }
  await Promise.all(jobs);
}
