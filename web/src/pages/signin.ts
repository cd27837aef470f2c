import { api } from '../api/client';
import { ApiError } from '../api/problems';
import { session } from '../api/session';
import { showError, clearBanner } from '../ui/banner';
import { clearFieldErrors, field, h, showFieldError } from '../ui/dom';
import { navigate } from '../ui/navigate';

/** Sign in with a key, or create an account and see its key once (with a copy button). */
export function renderSignIn(main: HTMLElement, params: URLSearchParams): void {
  const next = params.get('next') || 'markets';

  const keyInput = h('input', { name: 'apiKey', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
  const signIn = h('form', { class: 'card', 'aria-labelledby': 'signin-title' },
    h('h2', { id: 'signin-title' }, 'Sign in with an API key'),
    field('API key', keyInput, 'Kept in this tab only (sessionStorage): closing the tab signs you out.'),
    h('button', { type: 'submit' }, 'Sign in'));
  signIn.addEventListener('submit', async event => {
    event.preventDefault();
    clearFieldErrors(signIn);
    const key = keyInput.value.trim();
    if (!key) {
      showFieldError(signIn, 'apiKey', 'Paste your API key.');
      return;
    }
    session.signIn(key);
    try {
      await api.me();
      navigate(next);
    } catch (error) {
      session.signOut();
      if (error instanceof ApiError && error.status === 401) showFieldError(signIn, 'apiKey', 'This API key is unknown or revoked.');
      else showError(error);
    }
  });

  const email = h('input', { name: 'email', type: 'email', autocomplete: 'email', required: true });
  const result = h('div', { class: 'key-result', 'aria-live': 'polite' });
  const create = h('form', { class: 'card', 'aria-labelledby': 'create-title' },
    h('h2', { id: 'create-title' }, 'Create an account'),
    h('p', {}, 'A free paper-trading account with a starting balance. Your API key is shown once: copy it somewhere safe.'),
    field('Email', email),
    h('button', { type: 'submit' }, 'Create account'),
    result);
  create.addEventListener('submit', async event => {
    event.preventDefault();
    clearFieldErrors(create);
    clearBanner();
    try {
      const account = await api.createAccount(email.value.trim());
      session.signIn(account.apiKey);
      const keyOut = h('output', { class: 'api-key', id: 'new-api-key' }, account.apiKey);
      const copied = h('span', { role: 'status' });
      result.replaceChildren(
        h('p', {}, 'Your API key (shown only now):'),
        keyOut,
        h('div', { class: 'row' },
          h('button', { type: 'button', onclick: async () => {
            try {
              await navigator.clipboard.writeText(account.apiKey);
              copied.textContent = 'Copied.';
            } catch {
              copied.textContent = 'Copying is not allowed here: select the key and copy it by hand.';
            }
          } }, 'Copy key'),
          h('button', { type: 'button', onclick: () => navigate(next) }, 'Continue'),
          copied));
    } catch (error) {
      if (error instanceof ApiError && showFieldError(create, error.field, error.message)) return;
      showError(error);
    }
  });

  main.append(h('h1', {}, 'Sign in'), h('div', { class: 'grid two' }, signIn, create));
}
