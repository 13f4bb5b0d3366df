import { describe, expect, it } from 'vitest';
import { parseChannelName, SUBSCRIPTION_ERRORS, WIRE_ERRORS } from '../../src/realtime/index.js';

describe('the wire error registry', () => {
  it('has the codes of PUSHER-PROTOCOL.md', () => {
    const codes = new Set(Object.values(WIRE_ERRORS).map((e) => e.code));
    for (const code of [4001, 4003, 4004, 4005, 4007, 4008, 4009, 4100, 4200, 4201, 4202, 4301, 4302]) expect(codes).toContain(code);
  });

  it('keeps every code in the protocol ranges, and never closes for 4300-class errors', () => {
    for (const [kind, e] of Object.entries(WIRE_ERRORS)) {
      expect(e.code, kind).toBeGreaterThanOrEqual(4000);
      expect(e.code, kind).toBeLessThan(4400);
      if (e.code >= 4300) expect(e.closes, kind).toBe(false);
      if (e.code < 4200) expect(e.closes, kind).toBe(true);
      expect(Buffer.byteLength(e.message), `${kind} fits a close reason`).toBeLessThanOrEqual(123);
    }
    for (const e of Object.values(SUBSCRIPTION_ERRORS)) expect([400, 401, 403]).toContain(e.status);
  });
});

describe('channel names', () => {
  it.each([
    ['orders', 'public', false],
    ['cache-prices', 'public', true],
    ['private-store.1', 'private', false],
    ['private-cache-x', 'private', true],
    ['private-encrypted-x', 'encrypted', false],
    ['private-encrypted-cache-x', 'encrypted', true],
    ['presence-room', 'presence', false],
    ['presence-cache-room', 'presence', true],
    ['#server-to-user-42', 'user', false],
    ['A-z_0=9@,.;', 'public', false],
  ])('%s is %s (cached: %s)', (name, kind, cached) => {
    expect(parseChannelName(name)).toMatchObject({ name, kind, cached });
  });

  it('refuses names outside the alphabet or over 200 characters', () => {
    for (const name of ['', ' ', 'a b', 'a/b', 'é', 'a'.repeat(201), '#server-to-user-', '#other', 'private-#x', 'a\nb']) {
      expect(parseChannelName(name), JSON.stringify(name)).toBeUndefined();
    }
    expect(parseChannelName('a'.repeat(200))).toBeDefined();
  });
});
