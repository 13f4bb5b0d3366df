import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PUSHER_HTTP_ERRORS, SUBSCRIPTION_ERRORS, WIRE_ERRORS } from '../../../src/realtime/index.js';

const doc = readFileSync(new URL('../../../docs/realtime-errors.md', import.meta.url), 'utf8');
const rows = (pattern: RegExp) => [...doc.matchAll(pattern)];

// | `UnknownApp` | 4001 | yes | …
const wireRows = rows(/^\| `([A-Za-z]+)` \| (\d{4}) \| (yes|no) \|/gm);
// | `InvalidSignature` | AuthError | 401 | …
const subscriptionRows = rows(/^\| `([A-Za-z]+)` \| ([A-Za-z]+) \| (\d{3}) \|/gm);
// | `UNKNOWN_APP` | 404 | …
const httpRows = rows(/^\| `([A-Z][A-Z0-9_]*)` \| (\d{3}) \|/gm);

describe('docs/realtime-errors.md', () => {
  it('documents every wire error with its code and whether it closes the connection', () => {
    const documented = Object.fromEntries(wireRows.map((m) => [m[1], { code: Number(m[2]), closes: m[3] === 'yes' }]));
    const registry = Object.fromEntries(Object.entries(WIRE_ERRORS).map(([kind, e]) => [kind, { code: e.code, closes: e.closes }]));
    expect(documented).toEqual(registry);
    expect(wireRows).toHaveLength(Object.keys(WIRE_ERRORS).length);
  });

  it('documents every subscription error with its type and status', () => {
    const documented = Object.fromEntries(subscriptionRows.map((m) => [m[1], { type: m[2], status: Number(m[3]) }]));
    const registry = Object.fromEntries(Object.entries(SUBSCRIPTION_ERRORS).map(([kind, e]) => [kind, { type: e.type, status: e.status }]));
    expect(documented).toEqual(registry);
  });

  it('documents every HTTP API error code with its status', () => {
    const documented = Object.fromEntries(httpRows.map((m) => [m[1], Number(m[2])]));
    const registry = Object.fromEntries(Object.entries(PUSHER_HTTP_ERRORS).map(([code, e]) => [code, e.status]));
    expect(documented).toEqual(registry);
    expect(httpRows).toHaveLength(Object.keys(PUSHER_HTTP_ERRORS).length);
  });

  it('keeps wire codes in the protocol ranges: closing errors below 4300, 4300 and up never close', () => {
    for (const { code, closes } of Object.values(WIRE_ERRORS)) {
      expect(code).toBeGreaterThanOrEqual(4000);
      expect(code).toBeLessThan(4400);
      if (code >= 4300) expect(closes).toBe(false);
    }
  });
});
