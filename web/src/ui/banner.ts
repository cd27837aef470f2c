import { ApiError } from '../api/problems';

/** The page-wide message line: errors as sentences, 429 with when to retry (the sentence already says it). */
const banner = () => document.getElementById('banner')!;

export function showError(error: unknown): void {
  const message = error instanceof ApiError ? error.message
    : error instanceof Error ? error.message : 'Something went wrong; try again.';
  const el = banner();
  el.className = 'banner error';
  el.textContent = message;
}

export function showInfo(message: string): void {
  const el = banner();
  el.className = 'banner info';
  el.textContent = message;
}

export function clearBanner(): void {
  const el = banner();
  el.className = '';
  el.textContent = '';
}
