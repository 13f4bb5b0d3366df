import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderView } from '../../src/store/index.js';
import { login, moveTo, placeOrder, type Session } from '../support/http-app.js';
import { startRealtimeApp, subscription, type RealtimeApp } from '../support/storeflow-realtime.js';
import { waitFor } from '../support/waiting.js';
import { LiveFeed, comparePositions, storeEventsCatchUp, trackingEventsCatchUp, type ConnectionState, type FeedEvent } from '../../web/src/realtime/index.js';

const ORDER_EVENTS = ['OrderCreated', 'OrderStatusUpdated', 'ShippingStatusUpdated'] as const;

/**
 * LiveFeed against a real StoreFlow (PGlite, realtime and worker roles, a real socket) with
 * the Node build of pusher-js: live delivery, catch-up, polling while the socket is down and
 * exactly-once delivery across a reconnect, checked against the store's own event log.
 */
describe('LiveFeed against StoreFlow', () => {
  let app: RealtimeApp;
  let staff: Session;
  const feeds: LiveFeed[] = [];

  beforeAll(async () => {
    app = await startRealtimeApp();
    staff = await login(app.http, 'staff');
  });
  afterAll(async () => {
    for (const f of feeds) f.stop();
    await app?.close();
  });

  function storeFeed(options: { after?: string; pollIntervalMs?: number } = {}) {
    const pusher = app.pusher({ session: staff });
    const got: Array<FeedEvent & { origin: string }> = [];
    const states: ConnectionState[] = [];
    const errors: unknown[] = [];
    const feed = new LiveFeed(pusher, {
      channel: 'private-store.1.orders',
      events: ORDER_EVENTS,
      catchUp: storeEventsCatchUp(1, { baseUrl: app.baseUrl, headers: () => ({ cookie: staff.cookie }) }),
      onEvent: (e, origin) => got.push({ ...e, origin }),
      onState: (s) => states.push(s),
      onError: (e) => errors.push(e),
      pollIntervalMs: options.pollIntervalMs ?? 200,
      settleMs: 300,
      ...(options.after ? { after: options.after } : {}),
    });
    feeds.push(feed);
    return { pusher, feed, got, states, errors };
  }

  /** The store's order events in the log after `after`, as positions, in log order. */
  async function logPositions(after = '0.0'): Promise<string[]> {
    const res = await app.http.inject({ url: `/api/stores/1/events?after=${after}&limit=1000`, headers: staff.headers });
    expect(res.statusCode, res.body).toBe(200);
    const events = res.json().events as Array<{ name: string; checkpoint: string }>;
    return events.filter((e) => (ORDER_EVENTS as readonly string[]).includes(e.name)).map((e) => e.checkpoint);
  }

  const positionsOf = (got: FeedEvent[]) => got.map((e) => e.position);
  /**
   * The cursor has passed `last`: it moves to what a catch-up read returned, which may be a
   * later event of the store the feed does not want (the notifier's NotificationCreated).
   */
  const passed = (feed: LiveFeed, last: string | undefined) => last !== undefined && comparePositions(feed.position, last) >= 0;

  it('catches up on what happened before it started, then delivers new events live, each once', async () => {
    const earlier = await placeOrder(app.http, staff);
    const { pusher, feed, got, states, errors } = storeFeed();
    feed.start();
    await waitFor('connected and subscribed', () => feed.state === 'connected' && pusher.channel('private-store.1.orders')?.subscribed);
    await waitFor('the earlier order caught up', () => got.some((e) => e.payload.public_id === earlier.public_id));
    expect(got.find((e) => e.payload.public_id === earlier.public_id)?.origin).toBe('catch-up');

    const order = await placeOrder(app.http, staff, { type: 'shipping' });
    await moveTo(app.http, staff, order, 'accepted');
    await waitFor('both new events', () => got.filter((e) => e.payload.public_id === order.public_id).length === 2);
    const mine = got.filter((e) => e.payload.public_id === order.public_id);
    expect(mine.map((e) => e.name)).toEqual(['OrderCreated', 'OrderStatusUpdated']);
    expect(mine.map((e) => e.origin)).toEqual(['live', 'live']);
    expect(mine[1]?.payload).toMatchObject({ new_status: 'accepted', version: 2, position: mine[1]?.position });

    // The settle read moves the cursor past the live events without delivering them again.
    const all = await logPositions();
    await waitFor('the cursor passes the last order event', () => passed(feed, all.at(-1)));
    expect(positionsOf(got)).toEqual(all);
    expect(feed.stats.duplicates).toBeGreaterThan(0);
    expect(states).toContain('connected');
    expect(errors).toEqual([]);
  });

  it('polls while the socket is down and, after reconnecting, has every change exactly once', async () => {
    const start = (await logPositions()).at(-1) ?? '0.0';
    const { pusher, feed, got, states, errors } = storeFeed({ after: start });
    feed.start();
    await waitFor('connected and subscribed', () => feed.state === 'connected' && pusher.channel('private-store.1.orders')?.subscribed);

    let order: OrderView = await placeOrder(app.http, staff, { type: 'shipping' });
    await waitFor('the new order live', () => got.some((e) => e.payload.public_id === order.public_id));

    pusher.disconnect();
    await waitFor('offline', () => feed.state === 'offline');
    order = await moveTo(app.http, staff, order, 'accepted');
    await waitFor('the change while offline, by polling', () =>
      got.some((e) => e.payload.public_id === order.public_id && e.payload.new_status === 'accepted'),
    );
    expect(got.at(-1)?.origin).toBe('catch-up');
    order = await moveTo(app.http, staff, order, 'packing');

    pusher.connect();
    await waitFor('connected and subscribed again', () => feed.state === 'connected' && pusher.channel('private-store.1.orders')?.subscribed);
    await waitFor('the packing change', () => got.some((e) => e.payload.new_status === 'packing' && e.payload.public_id === order.public_id));
    // Until a read begun after the resubscription has covered the gap, live events are held
    // and may be delivered by that read (or the reads queued behind it) instead. Once caught
    // up and quiet — no read for 400 ms — the next change must arrive live.
    await waitFor('caught up after the reconnect', () => !feed.catchingUp);
    let reads = -1;
    let quietSince = 0;
    await waitFor('no more catch-up reads', () => {
      if (feed.stats.reads !== reads) [reads, quietSince] = [feed.stats.reads, Date.now()];
      return Date.now() - quietSince >= 400;
    });
    const shipped = await app.http.inject({
      method: 'POST',
      url: `/api/stores/1/orders/${order.id}/ship`,
      headers: staff.headers,
      payload: { version: order.version, tracking_code: 'DHL-1' },
    });
    expect(shipped.statusCode, shipped.body).toBe(200);
    await waitFor('shipped, live after the reconnect', () => got.some((e) => e.name === 'ShippingStatusUpdated'));
    expect(got.filter((e) => e.payload.public_id === order.public_id && e.origin === 'live').map((e) => e.name)).toContain('OrderStatusUpdated');

    const expected = await logPositions(start);
    await waitFor('the cursor passes the last order event', () => passed(feed, expected.at(-1)));
    expect(positionsOf(got)).toEqual(expected);
    expect(new Set(positionsOf(got)).size).toBe(got.length);
    expect(states).toEqual(expect.arrayContaining(['offline', 'connected']));
    expect(errors).toEqual([]);
  });

  it('feeds a customer tracking page from the public channel and the tracking catch-up, without internal ids', async () => {
    const order = await placeOrder(app.http, staff, { type: 'shipping' });
    const pusher = app.pusher(null);
    const got: FeedEvent[] = [];
    const feed = new LiveFeed(pusher, {
      channel: `customer.${order.public_id}.order`,
      events: ['OrderStatusUpdated', 'ShippingStatusUpdated'],
      catchUp: trackingEventsCatchUp(order.public_id, { baseUrl: app.baseUrl }),
      onEvent: (e) => got.push(e),
      settleMs: 200,
    });
    feeds.push(feed);
    const accepted = await moveTo(app.http, staff, order, 'accepted');
    feed.start();
    expect(await subscription(pusher, `customer.${order.public_id}.order`)).toEqual({ ok: true });
    await waitFor('accepted, caught up', () => got.length === 1);
    await moveTo(app.http, staff, accepted, 'packing');
    await waitFor('packing, live', () => got.length === 2);
    expect(got.map((e) => e.payload.new_status)).toEqual(['accepted', 'packing']);
    for (const e of got) {
      expect(e.payload).not.toHaveProperty('order_id');
      expect(e.payload).not.toHaveProperty('store_id');
    }
  });

  it('reports a refused subscription and a failing catch-up read instead of throwing', async () => {
    const pusher = app.pusher(null);
    const errors: unknown[] = [];
    const feed = new LiveFeed(pusher, {
      channel: 'private-store.1.orders',
      events: ORDER_EVENTS,
      catchUp: storeEventsCatchUp(1, { baseUrl: app.baseUrl }),
      onEvent: () => expect.fail('an anonymous feed must receive nothing'),
      onError: (e) => errors.push(e),
    });
    feeds.push(feed);
    feed.start();
    await waitFor('both failures reported', () => errors.length >= 2);
    const messages = errors.map((e) => String((e as Error).message));
    expect(messages.some((m) => m.includes('subscription to private-store.1.orders refused'))).toBe(true);
    expect(errors.some((e) => (e as { status?: number }).status === 401)).toBe(true);
  });
});
