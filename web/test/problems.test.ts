import { describe, expect, it } from 'vitest';
import { ApiError, normalizeField, parseRetryAfter, toApiError } from '../src/api/problems';

describe('problem details become sentences a person can act on', () => {
  it('uses the detail and names the field of a validation problem', () => {
    const error = toApiError(400, {
      type: 'https://quanttrader.dev/problems/validation', title: 'The request is invalid.', status: 400,
      detail: 'price must be greater than zero', field: 'price',
    });
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toBe('Price must be greater than zero.');
    expect(error.field).toBe('price');
    expect(error.status).toBe(400);
  });

  it('takes the first message of an ASP.NET errors dictionary and its field in camelCase', () => {
    const error = toApiError(400, { title: 'One or more validation errors occurred.', errors: { Quantity: ['The quantity is required.'] } });
    expect(error.field).toBe('quantity');
    expect(error.message).toBe('The quantity is required.');
  });

  it('names the risk limit that rejected an order', () => {
    const error = toApiError(422, { type: '.../risk-rejected', title: 'Rejected by risk', detail: 'Order notional 70000 exceeds 50000.', limit: 'maxOrderNotional' });
    expect(error.message).toBe('Order notional 70000 exceeds 50000. (limit: maxOrderNotional)');
  });

  it('does not repeat a limit the detail already names', () => {
    const error = toApiError(403, { detail: 'Your plan allows 5 alerts (limit alerts).', limit: 'alerts' });
    expect(error.message).toBe('Your plan allows 5 alerts (limit alerts).');
  });

  it('says when to retry a 429 from Retry-After seconds', () => {
    const error = toApiError(429, { title: 'Too many requests', detail: 'Rate limit of the free plan exceeded.' }, '7');
    expect(error.retryAfterSeconds).toBe(7);
    expect(error.message).toBe('Rate limit of the free plan exceeded. Try again in 7 seconds.');
  });

  it('says when to retry a 429 without a body, from an HTTP date', () => {
    const now = new Date('2026-12-08T00:00:00Z');
    const error = toApiError(429, undefined, 'Tue, 08 Dec 2026 00:03:00 GMT', now);
    expect(error.retryAfterSeconds).toBe(180);
    expect(error.message).toBe('Too many requests. Try again in 3 minutes.');
  });

  it('marks 401 as needing sign-in with a sentence even without a body', () => {
    const error = toApiError(401, undefined);
    expect(error.needsSignIn).toBe(true);
    expect(error.message).toMatch(/Sign in again\.$/);
  });

  it('explains an unreachable service', () => {
    expect(toApiError(503, 'not json').message).toBe('The service is not reachable right now; try again in a moment.');
  });

  it('reads JSON paths and body prefixes as form field names', () => {
    expect(normalizeField('$.stopPrice')).toBe('stopPrice');
    expect(normalizeField('body.Condition.Value')).toBe('value');
    expect(normalizeField('$')).toBeUndefined();
    expect(normalizeField(undefined)).toBeUndefined();
  });

  it('ignores a Retry-After it cannot read', () => {
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
