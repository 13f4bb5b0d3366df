import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cart, expectError, login, postCheckout, startTestApp, type Session, type TestApp } from '../support/http-app.js';

describe('catalog management over HTTP', () => {
  let t: TestApp;
  let manager: Session;
  let staff: Session;

  beforeAll(async () => {
    t = await startTestApp();
    [manager, staff] = await Promise.all([login(t.http, 'manager'), login(t.http, 'staff')]);
  });
  afterAll(async () => {
    await t?.close();
  });

  const patch = (session: Session, productId: number | string, payload: unknown, storeId = 1) =>
    t.http.inject({ method: 'PATCH', url: `/api/stores/${storeId}/products/${productId}`, headers: session.headers, payload: payload as object });

  it('lets a manager change a product, appending ProductUpdated to the store events', async () => {
    const { next } = (await t.http.inject({ method: 'GET', url: '/api/stores/1/events?limit=1000', headers: staff.headers })).json();
    const res = await patch(manager, 2, { name: 'Cappuccino (oat)', price_minor: 410 });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().product).toMatchObject({ id: 2, name: 'Cappuccino (oat)', price_minor: 410, active: true, version: 2 });

    const events = (await t.http.inject({ method: 'GET', url: `/api/stores/1/events?after=${next}`, headers: staff.headers })).json().events;
    expect(events).toEqual([
      expect.objectContaining({
        name: 'ProductUpdated',
        stream: 'product-2',
        stream_version: 2,
        payload: expect.objectContaining({ product_id: 2, store_id: 1, price_minor: 410, changed: ['name', 'price_minor'] }),
      }),
    ]);
  });

  it('prices new orders from the changed catalog', async () => {
    expect((await patch(manager, 1, { price_minor: 500 })).statusCode).toBe(200);
    const res = await postCheckout(t.http, 1, cart('pickup', { items: [{ product_id: 1, quantity: 2 }] }));
    expect(res.json().order.total_minor).toBe(1000);
  });

  it('lists inactive products to staff but not on the storefront', async () => {
    expect((await patch(manager, 5, { active: false })).statusCode).toBe(200);
    const staffList = (await t.http.inject({ method: 'GET', url: '/api/stores/1/products', headers: staff.headers })).json().products;
    expect(staffList.find((p: { id: number }) => p.id === 5)).toMatchObject({ active: false });
    const front = (await t.http.inject({ method: 'GET', url: '/api/stores/1/storefront' })).json();
    expect(front.products.map((p: { id: number }) => p.id)).not.toContain(5);
    expect(front.shipping_methods.map((m: { code: string }) => m.code)).toEqual(['standard', 'express']);
  });

  it('appends nothing when a change changes nothing', async () => {
    const { next } = (await t.http.inject({ method: 'GET', url: '/api/stores/1/events?limit=1000', headers: staff.headers })).json();
    const current = (await t.http.inject({ method: 'GET', url: '/api/stores/1/products', headers: staff.headers })).json().products[2];
    const res = await patch(manager, current.id, { name: current.name });
    expect(res.statusCode).toBe(200);
    expect(res.json().product.version).toBe(current.version);
    const events = (await t.http.inject({ method: 'GET', url: `/api/stores/1/events?after=${next}`, headers: staff.headers })).json().events;
    expect(events).toEqual([]);
  });

  it('refuses staff with 403 ROLE_FORBIDDEN', async () => {
    const err = expectError(await patch(staff, 2, { price_minor: 1 }), 'ROLE_FORBIDDEN');
    expect(err.details).toMatchObject({ role: 'staff', action: 'catalog.manage' });
  });

  it('refuses an empty change with 400', async () => {
    expectError(await patch(manager, 2, {}), 'VALIDATION_FAILED');
  });

  it.each([
    ['a negative price', { price_minor: -1 }],
    ['a fractional price', { price_minor: 1.5 }],
    ['a blank name', { name: '  ' }],
    ['an unknown field', { currency: 'USD' }],
  ])('refuses %s with 400', async (_label, body) => {
    expectError(await patch(manager, 2, body), 'VALIDATION_FAILED');
  });

  it('answers a product of another store with 404 PRODUCT_NOT_FOUND', async () => {
    expectError(await patch(manager, t.seed.productIds[6] ?? 7, { price_minor: 1 }), 'PRODUCT_NOT_FOUND');
  });

  it('answers a store the manager does not belong to with 403 TENANT_FORBIDDEN', async () => {
    expectError(await patch(manager, 7, { price_minor: 1 }, 2), 'TENANT_FORBIDDEN');
  });

  it('answers a non-numeric product id with 400', async () => {
    expectError(await patch(manager, 'latte', { price_minor: 1 }), 'VALIDATION_FAILED');
  });
});
