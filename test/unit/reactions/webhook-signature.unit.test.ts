import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newWebhookSecret, signWebhook } from '../../../src/reactions/index.js';
import { verifySignature } from '../../support/delivery-fixtures.js';

describe('webhook signatures', () => {
  const at = new Date('2025-03-01T09:00:00.750Z');
  const body = '{"id":"e1","name":"OrderCreated"}';

  it('signs "<unix seconds>.<raw body>" with HMAC-SHA256 of the secret, as t=…,v1=<hex>', () => {
    const t = 1740819600;
    const hex = createHmac('sha256', 'whsec_x').update(`${t}.${body}`).digest('hex');
    expect(signWebhook('whsec_x', body, at)).toBe(`t=${t},v1=${hex}`);
  });

  it('verifies with the right secret and body only, and refuses an old timestamp (a replay)', () => {
    const header = signWebhook('whsec_x', body, at);
    expect(verifySignature('whsec_x', header, body, at.getTime())).toBe(true);
    expect(verifySignature('whsec_y', header, body, at.getTime())).toBe(false);
    expect(verifySignature('whsec_x', header, `${body} `, at.getTime())).toBe(false);
    expect(verifySignature('whsec_x', header, body, at.getTime() + 10 * 60_000)).toBe(false);
  });

  it('makes a fresh, prefixed secret every time', () => {
    const a = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(newWebhookSecret()).not.toBe(a);
  });
});
