import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allKeys,
  cart,
  expectError,
  login,
  moveTo,
  placeOrder,
  postCheckout,
  startTestApp,
  type Session,
  type TestApp,
} from '../support/http-app.js';

/** Keys that would leak internal numeric ids to a customer. */
const INTERNAL_ID_KEYS = ['id', 'order_id', 'store_id', 'merchant_id', 'product_id', 'user_id'];

describe('customer order tracking over HTTP', () => {
  let t: TestApp;
  let staff: Session;

  beforeAll(async () => {
    t = await startTestApp();
    staff = await login(t.http, 'staff');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('shows a fresh order to anyone holding its public id, without sign-in', async () => {
    const placed = await postCheckout(t.http, 1, cart('pickup'));
    const publicId = placed.json().order.public_id;
    const res = await t.http.inject({ method: 'GET', url: `/api/track/${publicId}` });
    expect(res.statusCode).toBe(200);
    expect(res.json().order).toMatchObject({
      public_id: publicId,
      status: 'pending',
      fulfilment_type: 'pickup',
      store_name: expect.any(String),
      total_minor: placed.json().order.total_minor,
      items: [
        { name: 'Flat white', quantity: 2, unit_price_minor: 380, line_total_minor: 760 },
        { name: 'Cinnamon bun', quantity: 1, unit_price_minor: 420, line_total_minor: 420 },
      ],
    });
  });

  it('never shows internal numeric ids in the order or its events, through a whole shipping workflow', async () => {
    let order = await placeOrder(t.http, staff, { type: 'shipping' });
    order = await moveTo(t.http, staff, order, 'accepted');
    order = await moveTo(t.http, staff, order, 'packing');
    const shipped = await t.http.inject({
      method: 'POST',
      url: `/api/stores/1/orders/${order.id}/ship`,
      headers: staff.headers,
      payload: { tracking_code: 'TRACK-123', tracking_url: 'https://carrier.example/t/TRACK-123', version: order.version },
    });
    expect(shipped.statusCode, shipped.body).toBe(200);

    const view = await t.http.inject({ method: 'GET', url: `/api/track/${order.public_id}` });
    const events = await t.http.inject({ method: 'GET', url: `/api/track/${order.public_id}/events` });
    expect(view.statusCode).toBe(200);
    expect(events.statusCode).toBe(200);
    for (const body of [view.json(), events.json()]) {
      const leaked = allKeys(body).filter((k) => INTERNAL_ID_KEYS.includes(k));
      expect(leaked, JSON.stringify(body)).toEqual([]);
    }
    expect(view.json().order).toMatchObject({ status: 'shipped', shipping_status: 'shipped', tracking_code: 'TRACK-123' });
    expect(events.json().events.map((e: { name: string }) => e.name)).toEqual([
      'OrderStatusUpdated',
      'OrderStatusUpdated',
      'OrderStatusUpdated',
      'ShippingStatusUpdated',
    ]);
  });

  it('keeps staff reasons out of the customer events', async () => {
    const manager = await login(t.http, 'manager');
    const order = await placeOrder(t.http, manager);
    const res = await t.http.inject({
      method: 'POST',
      url: `/api/stores/1/orders/${order.id}/cancel`,
      headers: manager.headers,
      payload: { reason: 'customer was rude to Sam', version: order.version },
    });
    expect(res.statusCode, res.body).toBe(200);
    const events = await t.http.inject({ method: 'GET', url: `/api/track/${order.public_id}/events` });
    expect(events.body).not.toContain('rude');
    expect(allKeys(events.json())).not.toContain('reason');
    expect(events.json().events).toEqual([
      expect.objectContaining({ name: 'OrderStatusUpdated', payload: expect.objectContaining({ new_status: 'cancelled' }) }),
    ]);
  });

  it('pages the customer events from a checkpoint', async () => {
    let order = await placeOrder(t.http, staff);
    for (const s of ['accepted', 'in_progress', 'ready']) order = await moveTo(t.http, staff, order, s);
    const first = await t.http.inject({ method: 'GET', url: `/api/track/${order.public_id}/events?limit=2` });
    expect(first.json()).toMatchObject({ has_more: true });
    expect(first.json().events.map((e: { payload: { new_status: string } }) => e.payload.new_status)).toEqual(['accepted', 'in_progress']);
    const rest = await t.http.inject({ method: 'GET', url: `/api/track/${order.public_id}/events?limit=2&after=${first.json().next}` });
    expect(rest.json().events.map((e: { payload: { new_status: string } }) => e.payload.new_status)).toEqual(['ready']);
    expect(rest.json().has_more).toBe(false);
  });

  it.each([
    ['too short', 'abc'],
    ['with characters outside base64url', 'aaaaaaaaaaaaaaaaaaaaa%21'],
    ['far too long', 'a'.repeat(100)],
  ])('answers a public id that is %s with 400', async (_label, publicId) => {
    expectError(await t.http.inject({ method: 'GET', url: `/api/track/${publicId}` }), 'VALIDATION_FAILED');
    expectError(await t.http.inject({ method: 'GET', url: `/api/track/${publicId}/events` }), 'VALIDATION_FAILED');
  });

  it('answers a well-formed but unknown public id with 404 ORDER_NOT_FOUND', async () => {
    const unknown = 'AAAAAAAAAAAAAAAAAAAAAA';
    expectError(await t.http.inject({ method: 'GET', url: `/api/track/${unknown}` }), 'ORDER_NOT_FOUND');
    expectError(await t.http.inject({ method: 'GET', url: `/api/track/${unknown}/events` }), 'ORDER_NOT_FOUND');
  });

  it('answers a malformed checkpoint with 400 CHECKPOINT_INVALID', async () => {
    const order = await placeOrder(t.http, staff);
    expectError(await t.http.inject({ method: 'GET', url: `/api/track/${order.public_id}/events?after=yesterday` }), 'CHECKPOINT_INVALID');
  });
});
