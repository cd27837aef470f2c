import { ColorType, createChart, type DeepPartial, type ChartOptions, type IChartApi } from 'lightweight-charts';

/** Every chart of the app: dark, UTC, sized by its container (autoSize follows the layout at 375 px and 1280 px). */
export function darkChart(container: HTMLElement, options: DeepPartial<ChartOptions> = {}): IChartApi {
  return createChart(container, {
    autoSize: true,
    // The library's logo injects a <style> element, which the CSP forbids; the attribution is in the page footer instead.
    layout: { background: { type: ColorType.Solid, color: '#131722' }, textColor: '#d1d4dc', attributionLogo: false },
    grid: { vertLines: { color: '#1f2430' }, horzLines: { color: '#1f2430' } },
    timeScale: { timeVisible: true, secondsVisible: false, borderColor: '#2a2e39' },
    rightPriceScale: { borderColor: '#2a2e39' },
    ...options,
  });
}
