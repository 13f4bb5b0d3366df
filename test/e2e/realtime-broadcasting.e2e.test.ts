import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allKeys, apiToken, login, moveTo, placeOrder, postCheckout, cart, type Session } from '../support/http-app.js';
import { whenConnected } from '../support/realtime-clients.js';
import { recorder, startRealtimeApp, subscription, type RealtimeApp } from '../support/storeflow-realtime.js';
import { waitFor } from '../support/waiting.js';

type Payload = Record<string, unknown>;
const CHECKPOINT = /^\d+\.\d+$/;

/**
 * Order events reach the screens that may see them, through the whole chain: HTTP command
 * -> log -> broadcaster subscription -> fan-out -> WebSocket -> laravel-echo, with the real
 * /broadcasting/auth in front of every private channel.
 */
describe('StoreFlow broadcasting to laravel-echo and pusher-js', () => {
  let h: RealtimeApp;
  let staff: Session;
  let manager: Session;

  beforeAll(async () => {
    h = await startRealtimeApp();
    [staff, manager] = await Promise.all([login(h.http, 'staff'), login(h.http, 'manager')]);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('staff on private-store.1.orders see OrderCreated at checkout and OrderStatusUpdated when the order moves', async () => {
    const echo = h.echo({ session: staff });
    const created: Payload[] = [];
    const updated: Payload[] = [];
    const channel = echo.private('store.1.orders').listen('.OrderCreated', (p: Payload) => created.push(p));
    channel.listen('.OrderStatusUpdated', (p: Payload) => updated.push(p));
    expect(await subscription(echo.connector.pusher, 'private-store.1.orders')).toEqual({ ok: true });

    const order = await placeOrder(h.http, staff);
    await waitFor('OrderCreated on the board', () => created.some((p) => p.order_id === order.id));
    const createdPayload = created.find((p) => p.order_id === order.id)!;
    expect(createdPayload).toMatchObject({ public_id: order.public_id, store_id: 1, status: 'pending', version: 1 });
    expect(createdPayload.position).toMatch(CHECKPOINT);

    await moveTo(h.http, staff, order, 'accepted');
    await waitFor('OrderStatusUpdated on the board', () => updated.some((p) => p.order_id === order.id));
    const update = updated.find((p) => p.order_id === order.id)!;
    expect(update).toEqual({
      order_id: order.id, public_id: order.public_id, store_id: 1, old_status: 'pending', new_status: 'accepted',
      fulfilment_type: 'pickup', timestamp: expect.any(String), version: 2, reason: null, override: false,
      position: expect.stringMatching(CHECKPOINT),
    });
    // The position is the checkpoint the catch-up endpoint names for the same event.
    const events = await h.http.inject({ method: 'GET', url: `/api/stores/1/events?after=${createdPayload.position}`, headers: staff.headers });
    expect(events.json().events.map((e: { name: string; checkpoint: string }) => [e.name, e.checkpoint])).toContainEqual(['OrderStatusUpdated', update.position]);
  });

  it('a customer on customer.{publicId}.order sees status and shipping updates without internal ids', async () => {
    const res = await postCheckout(h.http, 1, cart('shipping'));
    const publicId = String(res.json().order.public_id);
    const customer = h.echo(null);
    const seen: Array<{ name: string; payload: Payload }> = [];
    const channel = customer.channel(`customer.${publicId}.order`);
    for (const name of ['OrderCreated', 'OrderStatusUpdated', 'ShippingStatusUpdated']) {
      channel.listen(`.${name}`, (payload: Payload) => seen.push({ name, payload }));
    }
    expect(await subscription(customer.connector.pusher, `customer.${publicId}.order`)).toEqual({ ok: true });

    const board = await h.http.inject({ method: 'GET', url: '/api/stores/1/orders?status=pending&limit=500', headers: staff.headers });
    let order = board.json().orders.find((o: { public_id: string }) => o.public_id === publicId);
    order = await moveTo(h.http, staff, order, 'accepted');
    order = await moveTo(h.http, staff, order, 'packing');
    const shipped = await h.http.inject({
      method: 'POST', url: `/api/stores/1/orders/${order.id}/ship`, headers: staff.headers,
      payload: { version: order.version, tracking_code: 'DHL-42', tracking_url: 'https://track.example/DHL-42' },
    });
    expect(shipped.statusCode, shipped.body).toBe(200);

    await waitFor('four customer updates', () => seen.length === 4);
    expect(seen.map((s) => [s.name, s.payload.new_status ?? s.payload.new_shipping_status])).toEqual([
      ['OrderStatusUpdated', 'accepted'],
      ['OrderStatusUpdated', 'packing'],
      ['OrderStatusUpdated', 'shipped'],
      ['ShippingStatusUpdated', 'shipped'],
    ]);
    expect(seen.at(-1)!.payload).toMatchObject({ public_id: publicId, tracking_code: 'DHL-42', version: shipped.json().order.version });
    for (const { payload } of seen) {
      expect(payload.position).toMatch(CHECKPOINT);
      expect(typeof payload.version).toBe('number');
      expect(allKeys(payload).filter((k) => k.endsWith('_id') && k !== 'public_id')).toEqual([]);
      expect(allKeys(payload)).not.toContain('reason');
      expect(allKeys(payload)).not.toContain('override');
    }
  });

  it("does not echo a change to the socket named in X-Socket-ID (Echo's toOthers), but to every other one", async () => {
    const token = await apiToken(h.http, manager);
    const mine = h.echo({ token });
    const theirs = h.echo({ session: staff });
    const mineSeen: Payload[] = [];
    const theirsSeen: Payload[] = [];
    mine.private('store.1.orders').listen('.OrderStatusUpdated', (p: Payload) => mineSeen.push(p));
    theirs.private('store.1.orders').listen('.OrderStatusUpdated', (p: Payload) => theirsSeen.push(p));
    expect(await subscription(mine.connector.pusher, 'private-store.1.orders')).toEqual({ ok: true });
    expect(await subscription(theirs.connector.pusher, 'private-store.1.orders')).toEqual({ ok: true });
    const socketId = await whenConnected(mine.connector.pusher);
    expect(mine.socketId()).toBe(socketId);

    const order = await placeOrder(h.http, staff);
    const res = await h.http.inject({
      method: 'PATCH', url: `/api/stores/1/orders/${order.id}/status`,
      headers: { authorization: `Bearer ${token}`, 'x-socket-id': socketId },
      payload: { status: 'accepted', version: order.version },
    });
    expect(res.statusCode, res.body).toBe(200);
    await waitFor('the other socket gets the update', () => theirsSeen.some((p) => p.order_id === order.id && p.version === 2));

    // A later update without the header reaches both; one socket's frames keep their order,
    // so had the first one been sent to `mine`, it would have arrived before this one.
    await moveTo(h.http, staff, { ...order, version: 2 }, 'in_progress');
    await waitFor('my socket gets the later update', () => mineSeen.some((p) => p.order_id === order.id && p.version === 3));
    expect(mineSeen.filter((p) => p.order_id === order.id).map((p) => p.version)).toEqual([3]);
  });
});
