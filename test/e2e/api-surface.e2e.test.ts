import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cart,
  demoEmail,
  expectError,
  expectErrorShape,
  login,
  placeOrder,
  postCheckout,
  startTestApp,
  type Session,
  type TestApp,
} from '../support/http-app.js';

describe('the API surface', () => {
  let t: TestApp;
  let staff: Session;

  beforeAll(async () => {
    t = await startTestApp();
    staff = await login(t.http, 'staff');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('GET /health answers 200 with the database up', async () => {
    const res = await t.http.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', database: { kind: 'pglite', status: 'up' } });
  });

  it('GET /openapi.json is an OpenAPI 3 document listing the routes', async () => {
    const res = await t.http.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toBe('StoreFlow API');
    const paths = Object.keys(doc.paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/health',
        '/api/auth/login',
        '/api/auth/logout',
        '/api/auth/tokens',
        '/api/me',
        '/api/stores/{storeId}/checkout',
        '/api/stores/{storeId}/storefront',
        '/api/stores/{storeId}/orders',
        '/api/stores/{storeId}/orders/{orderId}',
        '/api/stores/{storeId}/orders/{orderId}/status',
        '/api/stores/{storeId}/orders/{orderId}/ship',
        '/api/stores/{storeId}/orders/{orderId}/cancel',
        '/api/stores/{storeId}/orders/{orderId}/reject',
        '/api/stores/{storeId}/orders/{orderId}/override',
        '/api/stores/{storeId}/products',
        '/api/stores/{storeId}/products/{productId}',
        '/api/stores/{storeId}/events',
        '/api/track/{publicId}',
        '/api/track/{publicId}/events',
      ]),
    );
    expect(doc.paths['/api/stores/{storeId}/orders/{orderId}/status'].patch.requestBody).toBeDefined();
    expect(doc.paths['/api/stores/{storeId}/checkout'].post.requestBody.content['application/json'].schema.properties).toHaveProperty('items');
  });

  it('answers an unknown route with 404 in the error format', async () => {
    const res = await t.http.inject({ method: 'GET', url: '/api/nothing-here?x=1' });
    const err = expectError(res, 'NOT_FOUND');
    expect(err.message).toContain('/api/nothing-here');
    expect(err.message).not.toContain('x=1');
    expectError(await t.http.inject({ method: 'DELETE', url: '/api/stores/1/orders' }), 'NOT_FOUND');
  });

  it('echoes a well-formed X-Request-Id and makes one up otherwise', async () => {
    const given = await t.http.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'req-e2e.1' } });
    expect(given.headers['x-request-id']).toBe('req-e2e.1');
    const bad = await t.http.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'bad id <script>' } });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends security headers', async () => {
    const res = await t.http.inject({ method: 'GET', url: '/health' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
  });

  it('answers a JSON body with a __proto__ key without polluting anything', async () => {
    const res = await t.http.inject({
      method: 'POST',
      url: '/api/stores/1/checkout',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(cart('pickup')).replace(/^\{/, '{"__proto__":{"polluted":true},'),
    });
    expectError(res, 'MALFORMED_JSON');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('gives every error the shape {error: {code, message}} with a registered code and its status', async () => {
    const order = await placeOrder(t.http, staff);
    const manager = await login(t.http, 'manager');
    const requests: InjectOptions[] = [
      { method: 'GET', url: '/nope' },
      { method: 'GET', url: '/api/me' },
      { method: 'GET', url: '/api/me', headers: { cookie: 'sf_session=forged' } },
      { method: 'POST', url: '/api/auth/login', payload: { email: demoEmail('staff'), password: 'wrong' } },
      { method: 'POST', url: '/api/auth/login', payload: { email: 1 } },
      { method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json' }, payload: '{' },
      { method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'text/plain' }, payload: 'hello' },
      { method: 'POST', url: '/api/stores/1/checkout', payload: cart('pickup', { items: [] }) },
      { method: 'POST', url: '/api/stores/1/checkout', payload: cart('pickup', { items: [{ product_id: 424242, quantity: 1 }] }) },
      { method: 'POST', url: '/api/stores/424242/checkout', payload: cart('pickup') },
      { method: 'GET', url: '/api/stores/424242/storefront' },
      { method: 'GET', url: '/api/stores/2/orders', headers: staff.headers },
      { method: 'GET', url: '/api/stores/x/orders', headers: staff.headers },
      { method: 'GET', url: '/api/stores/1/orders/424242', headers: staff.headers },
      { method: 'GET', url: '/api/stores/1/events?after=zz', headers: staff.headers },
      { method: 'PATCH', url: `/api/stores/1/orders/${order.id}/status`, headers: { cookie: staff.cookie }, payload: { status: 'accepted', version: 1 } },
      { method: 'PATCH', url: `/api/stores/1/orders/${order.id}/status`, headers: staff.headers, payload: { status: 'accepted' } },
      { method: 'PATCH', url: `/api/stores/1/orders/${order.id}/status`, headers: staff.headers, payload: { status: 'accepted', version: 9 } },
      { method: 'PATCH', url: `/api/stores/1/orders/${order.id}/status`, headers: staff.headers, payload: { status: 'completed', version: 1 } },
      { method: 'POST', url: `/api/stores/1/orders/${order.id}/cancel`, headers: staff.headers, payload: { reason: 'x', version: 1 } },
      { method: 'POST', url: `/api/stores/1/orders/${order.id}/cancel`, headers: manager.headers, payload: { version: 1 } },
      { method: 'PATCH', url: '/api/stores/1/products/424242', headers: manager.headers, payload: { active: false } },
      { method: 'GET', url: '/api/track/short' },
      { method: 'GET', url: '/api/track/AAAAAAAAAAAAAAAAAAAAAA' },
    ];
    const codes = new Set<string>();
    for (const r of requests) {
      const res = await t.http.inject(r);
      expect(res.statusCode, `${r.method} ${r.url}`).toBeGreaterThanOrEqual(400);
      expectErrorShape(res);
      expect(res.json().error.code, `${r.method} ${r.url}: ${res.body}`).not.toBe('INTERNAL');
      codes.add(res.json().error.code);
    }
    // The sweep really reached many different refusals, not one error many times.
    expect(codes.size).toBeGreaterThanOrEqual(15);
  });

  it('keeps the order unchanged by every refused command of the sweep', async () => {
    const order = await placeOrder(t.http, staff);
    await t.http.inject({ method: 'PATCH', url: `/api/stores/1/orders/${order.id}/status`, headers: staff.headers, payload: { status: 'completed', version: 1 } });
    const res = await t.http.inject({ method: 'GET', url: `/api/stores/1/orders/${order.id}`, headers: staff.headers });
    expect(res.json().order).toMatchObject({ status: 'pending', version: 1 });
  });
});

describe('rate limits', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_LOGIN_PER_MINUTE: '2', RATE_LIMIT_CHECKOUT_PER_MINUTE: '2' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers sign-in attempts over the limit with 429 RATE_LIMITED in the error format', async () => {
    const attempt = () =>
      t.http.inject({ method: 'POST', url: '/api/auth/login', payload: { email: demoEmail('owner'), password: 'wrong' } });
    expectError(await attempt(), 'AUTH_INVALID_CREDENTIALS');
    expectError(await attempt(), 'AUTH_INVALID_CREDENTIALS');
    const limited = await attempt();
    expectError(limited, 'RATE_LIMITED');
    expect(limited.headers['retry-after']).toBeDefined();
  });

  it('answers checkouts over the limit with 429 RATE_LIMITED', async () => {
    expect((await postCheckout(t.http, 1, cart('pickup'))).statusCode).toBe(201);
    expect((await postCheckout(t.http, 1, cart('pickup'))).statusCode).toBe(201);
    expectError(await postCheckout(t.http, 1, cart('pickup')), 'RATE_LIMITED');
  });
});
