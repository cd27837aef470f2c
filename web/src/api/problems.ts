/**
 * Turns an HTTP failure into something a person can act on. The services answer with RFC 9457 problem details
 * (`type`, `title`, `detail`, and `field` or `limit` naming what to fix); ASP.NET's own validation answers carry
 * `errors: {field: [messages]}` instead. Pure: the page decides where the sentence goes (next to the field, or in
 * the banner).
 */
export interface ProblemDetails {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  field?: string;
  limit?: string;
  errors?: Record<string, string[]>;
  [extra: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** The request field the server named (lower camelCase, as in the request body), if any. */
    readonly field: string | undefined,
    /** Seconds to wait before trying again (429, 503), if the server said. */
    readonly retryAfterSeconds: number | undefined,
    readonly problem: ProblemDetails | undefined,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** 401: the key is missing, unknown or revoked; the app returns to sign-in. */
  get needsSignIn(): boolean {
    return this.status === 401;
  }
}

/** `Retry-After` as seconds: delta-seconds or an HTTP date (relative to `now`). */
export function parseRetryAfter(header: string | null | undefined, now: Date = new Date()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

function firstValidationError(errors: Record<string, string[]> | undefined): [string, string] | undefined {
  if (!errors) return undefined;
  for (const [key, messages] of Object.entries(errors)) {
    if (messages && messages.length > 0) return [key, messages[0]];
  }
  return undefined;
}

/** `$.price`, `Price`, `body.price` → `price`: the name the page's form uses. */
export function normalizeField(field: string | undefined): string | undefined {
  if (!field) return undefined;
  let name = field.replace(/^\$\.?/, '').replace(/^body\.?/i, '');
  if (name.length === 0) return undefined;
  name = name.split('.').pop() ?? name;
  return name.charAt(0).toLowerCase() + name.slice(1);
}

function sentence(text: string): string {
  const t = text.trim();
  if (t.length === 0) return t;
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

function fallback(status: number): string {
  switch (status) {
    case 400: return 'The request was not accepted; check the values and try again.';
    case 401: return 'Your API key is missing, unknown or revoked. Sign in again.';
    case 403: return 'You are not allowed to do this, or your plan does not include it.';
    case 404: return 'That was not found; it may have been deleted.';
    case 409: return 'This conflicts with something that already exists.';
    case 422: return 'The order was rejected by a risk limit.';
    case 429: return 'Too many requests.';
    case 502: case 503: case 504: return 'The service is not reachable right now; try again in a moment.';
    default: return status >= 500 ? 'Something went wrong on the server; try again in a moment.' : `The request failed (HTTP ${status}).`;
  }
}

export function waitSentence(seconds: number): string {
  if (seconds <= 1) return 'Try again in a second.';
  if (seconds < 120) return `Try again in ${seconds} seconds.`;
  return `Try again in ${Math.ceil(seconds / 60)} minutes.`;
}

/** The error for a failed response: `body` is the parsed JSON (or undefined when it was not JSON). */
export function toApiError(status: number, body: unknown, retryAfterHeader?: string | null, now: Date = new Date()): ApiError {
  const problem = body && typeof body === 'object' ? (body as ProblemDetails) : undefined;
  const validation = firstValidationError(problem?.errors);
  const field = normalizeField(problem?.field ?? validation?.[0]);
  const detail = problem?.detail ?? validation?.[1] ?? problem?.title;
  let message = detail ? sentence(detail) : fallback(status);
  if (problem?.limit && !message.toLowerCase().includes(problem.limit.toLowerCase())) {
    message = `${message} (limit: ${problem.limit})`;
  }
  const retryAfter = parseRetryAfter(retryAfterHeader, now);
  if (status === 429) {
    if (!detail) message = fallback(429);
    message = `${message} ${retryAfter !== undefined ? waitSentence(retryAfter) : 'Wait a moment and try again.'}`;
  }
  return new ApiError(message, status, field, retryAfter, problem);
}

/** A network failure (the gateway is down or unreachable) as a sentence. */
export function networkError(): ApiError {
  return new ApiError('The server cannot be reached. Check that QuantTrader is running, then try again.', 0, undefined, undefined, undefined);
}
