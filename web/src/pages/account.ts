import { api } from '../api/client';
import { ApiError } from '../api/problems';
import { session } from '../api/session';
import type { ApiKeyInfo, Plan } from '../api/types';
import { formatStatistic, formatTime, labelOf } from '../format';
import { showError, showInfo } from '../ui/banner';
import { clear, h, table } from '../ui/dom';

export function plansOf(answer: Plan[] | { plans: Plan[] }): Plan[] {
  return Array.isArray(answer) ? answer : answer.plans ?? [];
}

export async function renderAccount(main: HTMLElement): Promise<void> {
  const me = await api.me();
  const keysBox = h('section', { 'aria-labelledby': 'keys-title' });
  const newKey = h('div', { 'aria-live': 'polite' });
  const plansBox = h('section', { 'aria-labelledby': 'plans-title' });
  main.append(h('h1', {}, 'Account'),
    h('dl', { class: 'figures' },
      h('div', {}, h('dt', {}, 'Email'), h('dd', {}, me.email)),
      h('div', {}, h('dt', {}, 'Plan'), h('dd', { id: 'plan' }, me.plan)),
      h('div', {}, h('dt', {}, 'User id'), h('dd', { class: 'mono' }, me.userId))),
    h('h2', {}, 'Limits of your plan'),
    table(['Limit', 'Value'], Object.entries(me.limits ?? {}).map(([k, v]) => [labelOf(k), formatStatistic(k, v)])),
    keysBox, newKey, plansBox);

  const drawKeys = async () => {
    const answer = await api.keys();
    const keys = (Array.isArray(answer) ? answer : ((answer as { keys?: ApiKeyInfo[] }).keys ?? [])) as ApiKeyInfo[];
    clear(keysBox, h('h2', { id: 'keys-title' }, 'API keys'),
      h('p', {}, 'Create a new key before revoking the one you use; a revoked key stops working at once.'),
      h('button', { type: 'button', onclick: async () => {
        try {
          const created = await api.rotateKey();
          clear(newKey, h('p', {}, 'New API key (shown only now; this tab now uses it):'), h('output', { class: 'api-key' }, created.apiKey),
            h('button', { type: 'button', onclick: () => void navigator.clipboard.writeText(created.apiKey).catch(() => undefined) }, 'Copy key'));
          session.signIn(created.apiKey);
          await drawKeys();
        } catch (error) {
          showError(error);
        }
      } }, 'Create a new key'),
      table(['Key', 'Created', 'Revoked', ''], keys.map(k => {
        const id = k.id ?? k.keyId ?? '';
        return [h('span', { class: 'mono' }, `${k.prefix ?? id.slice(0, 8)}…`), formatTime(k.createdAt), k.revokedAt ? formatTime(k.revokedAt) : '–',
          k.revokedAt ? '' : h('button', { type: 'button', class: 'small', onclick: async () => {
            if (!confirm('Revoke this key? Anything using it stops working.')) return;
            try {
              await api.revokeKey(id);
              showInfo('Key revoked.');
              await drawKeys();
            } catch (error) {
              showError(error);
            }
          } }, 'Revoke')];
      })));
  };

  const plans = plansOf(await api.plans());
  clear(plansBox, h('h2', { id: 'plans-title' }, 'Plans'), table(['Plan', 'Price', ''], plans.map(p => {
    const name = String(p.name ?? p.plan ?? '');
    const price = p.monthlyPrice !== undefined ? `${p.monthlyPrice} ${p.currency ?? ''} / month` : String(p.price ?? '');
    return [String(p.displayName ?? name), price, name === me.plan ? 'Your plan' : h('button', { type: 'button', class: 'small', onclick: async () => {
      try {
        const { url } = await api.checkout(name);
        location.assign(url);
      } catch (error) {
        if (error instanceof ApiError && error.status === 503) showInfo('Billing is not set up on this installation, so plans cannot be bought here. Ask the operator to change your plan.');
        else showError(error);
      }
    } }, `Upgrade to ${String(p.displayName ?? name)}`)];
  })));
  await drawKeys();
}
