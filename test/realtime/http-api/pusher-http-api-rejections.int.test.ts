import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { APP, DISABLED_APP, rejectionOf, signedFetch, startHttpApi, type HttpApiHarness } from './http-api-harness.js';

/**
 * What the HTTP API refuses, and with which status: real SDK calls where the SDK builds the
 * request, SDK-signed raw requests where it would refuse to. Nothing refused is published.
 */
let h: HttpApiHarness;
const sdk = () => h.sdk(APP);
const event = (over: Record<string, unknown> = {}) => JSON.stringify({ name: 'ev', data: '{}', channels: ['a'], ...over });

beforeAll(async () => {
  h = await startHttpApi();
});
afterAll(async () => {
  await h?.close();
});
afterEach(() => {
  h.skewClock(0);
  expect(h.control.publications).toEqual([]);
});

describe('authentication', () => {
  it('refuses a wrong signature with 401', async () => {
    const r = await rejectionOf(h.sdk({ ...APP, secret: 'not-the-secret' }).trigger('a', 'ev', {}));
    expect(r.status).toBe(401);
    expect(r.body).toMatch(/^Invalid signature/);
  });

  it('refuses a key that is not the app key with 401', async () => {
    const r = await rejectionOf(h.sdk({ ...APP, key: 'someone-else' }).trigger('a', 'ev', {}));
    expect(r).toEqual({ status: 401, body: 'Unknown auth_key' });
  });

  it('refuses a timestamp more than 600 s away from the server clock with 401', async () => {
    h.skewClock(601_000);
    expect((await rejectionOf(sdk().trigger('a', 'ev', {}))).status).toBe(401);
    h.skewClock(-601_000);
    expect((await rejectionOf(sdk().get({ path: '/channels' }))).status).toBe(401);
    h.skewClock(590_000);
    expect((await sdk().get({ path: '/channels' })).status).toBe(200);
  });

  it('refuses a body whose MD5 is not the signed body_md5 with 401', async () => {
    const r = await signedFetch(h, sdk(), { method: 'POST', path: '/apps/1/events', body: event(), signedBody: event({ data: 'other' }) });
    expect(r.status).toBe(401);
    expect(r.body).toMatch(/^Invalid body_md5/);
    expect(r.contentType).toMatch(/^text\/plain/);
  });

  it('refuses a body sent without a signed body_md5 with 401', async () => {
    const qs = sdk().createSignedQueryString({ method: 'POST', path: '/apps/1/events' });
    const res = await fetch(`${h.baseUrl}/apps/1/events?${qs}`, { method: 'POST', body: event(), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(401);
  });

  it('refuses an unsigned request with 401', async () => {
    const res = await fetch(`${h.baseUrl}/apps/1/channels`);
    expect(res.status).toBe(401);
  });

  it('answers an unknown app with 404', async () => {
    const r = await rejectionOf(h.sdk({ id: '999', key: APP.key, secret: APP.secret }).trigger('a', 'ev', {}));
    expect(r).toEqual({ status: 404, body: 'Unknown app' });
  });

  it('refuses a disabled app with 403, once its signature holds', async () => {
    expect(await rejectionOf(h.sdk(DISABLED_APP).trigger('a', 'ev', {}))).toEqual({ status: 403, body: 'Application disabled' });
    expect((await rejectionOf(h.sdk({ ...DISABLED_APP, secret: 'wrong' }).trigger('a', 'ev', {}))).status).toBe(401);
  });

  it('refuses a request signed over the prefixed path when mounted under a prefix', async () => {
    const qs = sdk().createSignedQueryString({ method: 'GET', path: '/pusher/apps/1/channels' });
    const res = await fetch(`${h.baseUrl}/pusher/apps/1/channels?${qs}`);
    expect(res.status).toBe(401);
  });
});

describe('bodies', () => {
  it('refuses malformed JSON with 400', async () => {
    const r = await signedFetch(h, sdk(), { method: 'POST', path: '/apps/1/events', body: '{"name": "ev", ' });
    expect(r).toMatchObject({ status: 400, body: 'Request body is not valid JSON' });
  });

  it('refuses a body of the wrong shape with 400', async () => {
    for (const body of [event({ data: { not: 'a string' } }), event({ channel: 'b' }), JSON.stringify({ name: 'ev', data: '' })]) {
      const r = await signedFetch(h, sdk(), { method: 'POST', path: '/apps/1/events', body });
      expect(r.status, r.body).toBe(400);
    }
  });

  it('refuses more than 100 channels with 400', async () => {
    const channels = Array.from({ length: 101 }, (_, i) => `c${i}`);
    const r = await signedFetch(h, sdk(), { method: 'POST', path: '/apps/1/events', body: event({ channels }) });
    expect(r.status).toBe(400);
    expect(r.body).toMatch(/^Too many channels/);
  });

  it("refuses data larger than the app's limit with 413", async () => {
    const r = await rejectionOf(sdk().trigger('a', 'big', 'x'.repeat(APP.maxMessageBytes + 1)));
    expect(r.status).toBe(413);
    expect((await sdk().trigger('a', 'fits', 'x'.repeat(APP.maxMessageBytes))).status).toBe(200);
    h.control.publications.length = 0;
  });

  it('refuses a batch of more than 10 events with 400, publishing none of them', async () => {
    const batch = Array.from({ length: 11 }, (_, i) => ({ channel: 'a', name: `e${i}`, data: '{}' }));
    expect((await rejectionOf(sdk().triggerBatch(batch))).status).toBe(400);
  });

  it('refuses a whole batch when one of its events is too large', async () => {
    const r = await rejectionOf(sdk().triggerBatch([{ channel: 'a', name: 'ok', data: '1' }, { channel: 'b', name: 'big', data: 'x'.repeat(5000) }]));
    expect(r.status).toBe(413);
  });

  it('refuses invalid channel names, event names and socket ids with 400', async () => {
    const bodies = [
      event({ channels: ['has space'] }),
      event({ channels: ['x'.repeat(201)] }),
      event({ channels: [] }),
      event({ name: 'pusher_internal:member_added' }),
      event({ name: 'n'.repeat(201) }),
      event({ socket_id: 'abc' }),
    ];
    for (const body of bodies) {
      const r = await signedFetch(h, sdk(), { method: 'POST', path: '/apps/1/events', body });
      expect(r.status, body.slice(0, 80)).toBe(400);
    }
    const named = await signedFetch(h, sdk(), { method: 'GET', path: '/apps/1/channels/bad%7Cname' });
    expect(named.status).toBe(400);
  });

  it('refuses users of a non-presence channel with 400', async () => {
    const r = await rejectionOf(sdk().get({ path: '/channels/private-x/users' }));
    expect(r).toEqual({ status: 400, body: 'Users can only be listed for presence channels' });
  });

  it('refuses user_count for channels not limited to presence ones with 400', async () => {
    expect((await rejectionOf(sdk().get({ path: '/channels', params: { info: 'user_count' } }))).status).toBe(400);
    expect((await rejectionOf(sdk().get({ path: '/channels/private-x', params: { info: 'user_count' } }))).status).toBe(400);
  });

  it('refuses a repeated query parameter with 400', async () => {
    const qs = sdk().createSignedQueryString({ method: 'GET', path: '/apps/1/channels', params: { info: 'a' } });
    const res = await fetch(`${h.baseUrl}/apps/1/channels?${qs}&info=b`);
    expect(res.status).toBe(400);
  });
});
