/** The API key lives in sessionStorage only: closing the tab signs out, and nothing is written to disk by the app. */
const KEY = 'qt.apiKey';

export const session = {
  get apiKey(): string | null {
    return sessionStorage.getItem(KEY);
  },
  signIn(apiKey: string): void {
    sessionStorage.setItem(KEY, apiKey.trim());
  },
  signOut(): void {
    sessionStorage.removeItem(KEY);
  },
};
