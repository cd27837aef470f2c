import './styles.css';
import { whenUnauthorized } from './api/client';
import { session } from './api/session';
import { clearBanner, showError } from './ui/banner';
import { h, clear } from './ui/dom';
import { renderSignIn } from './pages/signin';
import { renderMarkets } from './pages/markets';
import { renderChart } from './pages/chart';
import { renderTrade } from './pages/trade';
import { renderPortfolio } from './pages/portfolio';
import { renderAlerts } from './pages/alerts';
import { renderStrategies } from './pages/strategies';
import { renderAccount } from './pages/account';
import { stream } from './stream/client';
import { navigate } from './ui/navigate';

/** A page draws itself into `main` and returns what to undo when the user leaves it (charts, timers, subscriptions). */
export type Page = (main: HTMLElement, params: URLSearchParams, path: string[]) => Promise<(() => void) | void> | (() => void) | void;

interface Route { path: string; title: string; page: Page; needsKey: boolean; inNav: boolean }

const routes: Route[] = [
  { path: 'markets', title: 'Markets', page: renderMarkets, needsKey: false, inNav: true },
  { path: 'chart', title: 'Chart', page: renderChart, needsKey: false, inNav: true },
  { path: 'trade', title: 'Trade', page: renderTrade, needsKey: true, inNav: true },
  { path: 'portfolio', title: 'Portfolio', page: renderPortfolio, needsKey: true, inNav: true },
  { path: 'alerts', title: 'Alerts', page: renderAlerts, needsKey: true, inNav: true },
  { path: 'strategies', title: 'Strategies', page: renderStrategies, needsKey: true, inNav: true },
  { path: 'account', title: 'Account', page: renderAccount, needsKey: true, inNav: true },
  { path: 'signin', title: 'Sign in', page: renderSignIn, needsKey: false, inNav: false },
];

let leave: (() => void) | void;

/** `#/chart/binance/BTCUSDT?interval=5m` → route `chart`, path [binance, BTCUSDT], params interval=5m. */
function parseHash(): { name: string; path: string[]; params: URLSearchParams } {
  const raw = location.hash.replace(/^#\/?/, '');
  const [pathPart, query = ''] = raw.split('?');
  const [name = '', ...path] = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
  return { name, path, params: new URLSearchParams(query) };
}

function drawNav(current: string): void {
  const nav = document.getElementById('nav')!;
  const signedIn = session.apiKey !== null;
  clear(nav,
    h('ul', {}, ...routes.filter(r => r.inNav && (signedIn || !r.needsKey)).map(r =>
      h('li', {}, h('a', { href: `#/${r.path}`, 'aria-current': r.path === current ? 'page' : null }, r.title)))),
    signedIn
      ? h('button', { type: 'button', class: 'link', onclick: () => { session.signOut(); stream.signOut(); navigate('signin'); } }, 'Sign out')
      : h('a', { href: '#/signin', 'aria-current': current === 'signin' ? 'page' : null }, 'Sign in'));
}

async function render(): Promise<void> {
  const { name, path, params } = parseHash();
  const route = routes.find(r => r.path === name) ?? (session.apiKey ? routes[0] : routes.find(r => r.path === 'signin')!);
  if (route.needsKey && !session.apiKey) {
    location.hash = `#/signin?next=${encodeURIComponent(name)}`;
    return;
  }
  if (typeof leave === 'function') leave();
  leave = undefined;
  clearBanner();
  if (pendingError) {
    showError(pendingError);
    pendingError = undefined;
  }
  drawNav(route.path);
  document.title = `${route.title} · QuantTrader`;
  const main = document.getElementById('main')!;
  main.replaceChildren();
  main.dataset.page = route.path;
  main.removeAttribute('data-ready');
  try {
    leave = await route.page(main, params, path);
  } catch (error) {
    showError(error);
  }
  // The browser tests wait for this before reading the page.
  main.dataset.ready = 'true';
}

let pendingError: unknown;

whenUnauthorized(error => {
  session.signOut();
  stream.signOut();
  pendingError = error;
  navigate('signin');
});

window.addEventListener('hashchange', () => void render());
void render();
