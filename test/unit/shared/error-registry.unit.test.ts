import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_REGISTRY } from '../../../src/shared/index.js';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const documented = new Map(
  [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1] as string, Number(m[2])]),
);

describe('the error registry', () => {
  it('is documented in docs/errors.md code for code, status for status', () => {
    const registry = new Map(Object.entries(ERROR_REGISTRY).map(([code, e]) => [code, e.status]));
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(registry));
  });

  it('uses only client (4xx) or server (5xx) statuses', () => {
    for (const { status } of Object.values(ERROR_REGISTRY)) expect(status).toBeGreaterThanOrEqual(400);
  });
});
