import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/app/demo-seed.js';
import { MAX_ENDPOINTS_PER_MERCHANT } from '../../src/reactions/index.js';
import { allKeys, expectError, login, startTestApp, type Session, type TestApp } from '../support/http-app.js';

/**
 * The webhook endpoint API: owners of a merchant manage its endpoints; the secret is shown
 * once; URLs and event types are checked at the edge; another merchant's endpoints answer
 * as if they did not exist. Private targets are refused (WEBHOOK_ALLOW_PRIVATE_URLS unset).
 */
const HOOK = 'https://hooks.example.com/storeflow';

describe('webhook endpoints over HTTP', () => {
  let t: TestApp;
  let owner: Session;
  let manager: Session;
  let staff: Session;
  let stranger: Session;

  const create = (session: Session, payload: unknown) =>
    t.http.inject({ method: 'POST', url: '/api/webhook-endpoints', headers: session.headers, payload: payload as object });
  const list = async (session: Session) => {
    const res = await t.http.inject({ method: 'GET', url: '/api/webhook-endpoints', headers: session.headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().endpoints as { id: number; url: string }[];
  };
  const remove = (session: Session, id: number | string) =>
    t.http.inject({ method: 'DELETE', url: `/api/webhook-endpoints/${id}`, headers: session.headers });
  const deliveries = (session: Session, id: number | string, query = '') =>
    t.http.inject({ method: 'GET', url: `/api/webhook-endpoints/${id}/deliveries${query}`, headers: session.headers });

  beforeAll(async () => {
    t = await startTestApp();
    await seedDemo(t.db, { emailDomain: 'rival.test', merchantName: 'Rival', password: 'pw-rival-123' });
    [owner, manager, staff, stranger] = await Promise.all([
      login(t.http, 'owner'), login(t.http, 'manager'), login(t.http, 'staff'), login(t.http, 'owner@rival.test', 'pw-rival-123'),
    ]);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('creates an endpoint and shows its signing secret once, never again', async () => {
    const res = await create(owner, { url: HOOK, event_types: ['OrderCreated', 'ShippingStatusUpdated', 'OrderCreated'], description: 'ERP' });
    expect(res.statusCode, res.body).toBe(201);
    const { endpoint, secret } = res.json();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(endpoint).toEqual({
      id: expect.any(Number), url: HOOK, event_types: ['OrderCreated', 'ShippingStatusUpdated'], description: 'ERP', active: true, created_at: expect.any(String),
    });

    const listed = await t.http.inject({ method: 'GET', url: '/api/webhook-endpoints', headers: owner.headers });
    expect(listed.json().endpoints).toContainEqual(endpoint);
    expect(allKeys(listed.json())).not.toContain('secret');
    expect(listed.body).not.toContain(secret);
    const [audit] = await t.db.query("SELECT meta FROM audit_log WHERE action = 'webhook_endpoint_created' AND entity_id = $1", [String(endpoint.id)]);
    expect(JSON.stringify(audit?.meta)).not.toContain(secret);
  });

  it('lists deliveries of an endpoint, paged (none yet for a new one)', async () => {
    const { endpoint } = (await create(owner, { url: HOOK, event_types: ['OrderCreated'] })).json();
    const res = await deliveries(owner, endpoint.id, '?limit=5');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ deliveries: [], next_before: null });
  });

  it('removes an endpoint: gone from the list, a second removal answers 404', async () => {
    const { endpoint } = (await create(owner, { url: HOOK, event_types: ['OrderCreated'] })).json();
    expect((await remove(owner, endpoint.id)).statusCode).toBe(204);
    expect((await list(owner)).map((e) => e.id)).not.toContain(endpoint.id);
    expectError(await remove(owner, endpoint.id), 'WEBHOOK_ENDPOINT_NOT_FOUND');
    expectError(await deliveries(owner, endpoint.id), 'WEBHOOK_ENDPOINT_NOT_FOUND');
  });

  it("answers another merchant's endpoint exactly like a missing one, and leaves it alone", async () => {
    const { endpoint } = (await create(owner, { url: HOOK, event_types: ['OrderCreated'] })).json();
    expect((await list(stranger)).map((e) => e.id)).not.toContain(endpoint.id);
    const theirs = expectError(await remove(stranger, endpoint.id), 'WEBHOOK_ENDPOINT_NOT_FOUND');
    const missing = expectError(await remove(stranger, 999_999_999), 'WEBHOOK_ENDPOINT_NOT_FOUND');
    expect(theirs).toEqual(missing);
    expect(expectError(await deliveries(stranger, endpoint.id), 'WEBHOOK_ENDPOINT_NOT_FOUND')).toEqual(missing);
    expect((await list(owner)).map((e) => e.id)).toContain(endpoint.id);
  });

  it('is for owners only: managers and staff get 403, nobody signed in 401', async () => {
    for (const session of [manager, staff]) {
      expectError(await create(session, { url: HOOK, event_types: ['OrderCreated'] }), 'MERCHANT_OWNER_REQUIRED');
      expectError(await t.http.inject({ method: 'GET', url: '/api/webhook-endpoints', headers: session.headers }), 'MERCHANT_OWNER_REQUIRED');
    }
    expectError(await t.http.inject({ method: 'GET', url: '/api/webhook-endpoints' }), 'AUTH_REQUIRED');
    expectError(
      await t.http.inject({ method: 'POST', url: '/api/webhook-endpoints', headers: { cookie: owner.cookie }, payload: { url: HOOK, event_types: ['OrderCreated'] } }),
      'CSRF_TOKEN_INVALID',
    );
  });

  it('refuses malformed bodies, other schemes, credentials in the URL and unknown event types with 400', async () => {
    const raw = await t.http.inject({
      method: 'POST', url: '/api/webhook-endpoints', headers: { ...owner.headers, 'content-type': 'application/json' }, payload: '{"url":',
    });
    expectError(raw, 'MALFORMED_JSON');
    const bad = [
      {},
      { url: 42, event_types: ['OrderCreated'] },
      { url: HOOK, event_types: 'OrderCreated' },
      { url: HOOK, event_types: [] },
      { url: HOOK, event_types: ['OrderExploded'] },
      { url: HOOK, event_types: ['NotificationCreated'] },
      { url: HOOK, event_types: ['OrderCreated'], secret: 'mine' },
      { url: 'not a url', event_types: ['OrderCreated'] },
      { url: 'ftp://hooks.example.com/x', event_types: ['OrderCreated'] },
      { url: 'javascript:alert(1)', event_types: ['OrderCreated'] },
      { url: 'https://user:pass@hooks.example.com/x', event_types: ['OrderCreated'] },
      { url: `${HOOK}/${'x'.repeat(2000)}`, event_types: ['OrderCreated'] },
      { url: HOOK, event_types: ['OrderCreated'], description: 'x'.repeat(201) },
    ];
    for (const body of bad) expectError(await create(owner, body), 'VALIDATION_FAILED');
    const unknown = expectError(await create(owner, { url: HOOK, event_types: ['OrderExploded'] }), 'VALIDATION_FAILED');
    expect(JSON.stringify(unknown.details)).toContain('event_types');
    for (const id of ['abc', '0', '1.5', '-2']) expectError(await remove(owner, id), 'VALIDATION_FAILED');
    expectError(await deliveries(owner, 1, '?limit=0'), 'VALIDATION_FAILED');
  });

  it('refuses URLs that point at loopback, private or link-local addresses', async () => {
    for (const url of [
      'http://127.0.0.1:8080/x', 'http://localhost/hook', 'http://api.localhost/hook', 'http://10.1.2.3/hook', 'http://192.168.0.10/hook',
      'http://169.254.169.254/latest/meta-data', 'http://[::1]/hook', 'http://0.0.0.0/', 'http://[::ffff:127.0.0.1]/',
    ]) {
      const err = expectError(await create(owner, { url, event_types: ['OrderCreated'] }), 'WEBHOOK_URL_FORBIDDEN');
      expect(err.details).toMatchObject({ host: expect.any(String) });
    }
  });

  it(`keeps a merchant to ${MAX_ENDPOINTS_PER_MERCHANT} active endpoints`, async () => {
    const have = (await list(owner)).length;
    for (let i = have; i < MAX_ENDPOINTS_PER_MERCHANT; i++) {
      expect((await create(owner, { url: `${HOOK}/${i}`, event_types: ['OrderCreated'] })).statusCode).toBe(201);
    }
    expectError(await create(owner, { url: HOOK, event_types: ['OrderCreated'] }), 'WEBHOOK_ENDPOINT_LIMIT');
    // Another merchant's count is its own.
    expect((await create(stranger, { url: HOOK, event_types: ['OrderCreated'] })).statusCode).toBe(201);
  });
});
