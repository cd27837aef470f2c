/** Moves to a page (`markets`, `chart/binance/BTCUSDT`); the router in main.ts draws it on hashchange. */
export function navigate(path: string): void {
  if (location.hash === `#/${path}`) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = `#/${path}`;
}
