import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, type DemoSeed } from '../../src/app/demo-seed.js';
import { EVENT_CATALOGUE } from '../../src/events/index.js';
import { storeCounters } from '../../src/reactions/store-counters-projection.js';
import { waitFor } from '../support/waiting.js';
import {
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
import type { OrderView } from '../../src/store/index.js';

/**
 * The event monitor's operator API (src/http/routes/admin-routes.ts) and /metrics, end to
 * end with the pipeline running: owners see their merchant's share, platform admins see
 * everything and alone may reset, rebuild, replay or pause a subscription.
 */
interface MonitorEvent {
  id: string;
  name: string;
  stream: string;
  timestamp: string;
  checkpoint: string;
  metadata: { merchant_id: number; store_id: number | null; correlation_id: string };
}
interface EventPage {
  events: MonitorEvent[];
  next: string;
  has_more: boolean;
}
interface SubscriptionStatus {
  name: string;
  state: string;
  holder: string | null;
  lag_events: number;
  lag_seconds: number;
  rebuildable: boolean;
}

describe('the event monitor API', () => {
  let t: TestApp;
  let owner: Session;
  let manager: Session;
  let staff: Session;
  let platformAdmin: Session;
  let otherOwner: Session;
  let other: DemoSeed;
  let correlated: OrderView;

  const get = (session: Session, url: string) => t.http.inject({ method: 'GET', url, headers: session.headers });
  const post = (session: Session, url: string, payload?: object) =>
    t.http.inject({ method: 'POST', url, headers: session.headers, ...(payload ? { payload } : {}) });
  const ok = <T>(res: LightMyRequestResponse, status = 200): T => {
    expect(res.statusCode, res.body).toBe(status);
    return res.json() as T;
  };
  const events = async (session: Session, query = '') => ok<EventPage>(await get(session, `/api/admin/events?limit=500${query}`));
  const storeCountersStatus = async () =>
    ok<{ subscriptions: SubscriptionStatus[] }>(await get(platformAdmin, '/api/admin/subscriptions')).subscriptions.find(
      (s) => s.name === 'store-counters',
    );
  const caughtUp = () => waitFor('store-counters to catch up', async () => (await storeCountersStatus())?.lag_events === 0);
  /** Every subscription has caught up, so reactions (the notifier's events) have all been appended. */
  const quiet = () =>
    waitFor('every subscription to catch up', async () =>
      ok<{ subscriptions: SubscriptionStatus[] }>(await get(platformAdmin, '/api/admin/subscriptions')).subscriptions.every((s) => s.lag_events === 0),
    );

  beforeAll(async () => {
    t = await startTestApp({ env: { PIPELINE_POLL_INTERVAL_MS: '20' } });
    other = await seedDemo(t.db, { emailDomain: 'other.test', merchantName: 'Other Merchant' });
    await seedDemo(t.db, { emailDomain: 'ops.test', merchantName: 'Platform Operations' });
    await t.db.query('UPDATE users SET platform_admin = true WHERE email = $1', ['owner@ops.test']);
    await t.flow.start();
    [owner, manager, staff, platformAdmin, otherOwner] = await Promise.all([
      login(t.http, 'owner'),
      login(t.http, 'manager'),
      login(t.http, 'staff'),
      login(t.http, 'owner@ops.test'),
      login(t.http, 'owner@other.test'),
    ]);

    const res = await postCheckout(t.http, 1, cart('pickup'), { 'x-correlation-id': 'monitor-checkout-1' });
    expect(res.statusCode, res.body).toBe(201);
    const pending = ok<{ orders: OrderView[] }>(await get(staff, '/api/stores/1/orders?status=pending&limit=500')).orders;
    correlated = pending.find((o) => o.public_id === res.json().order.public_id)!;
    let shipping = await placeOrder(t.http, staff, { type: 'shipping' });
    shipping = await moveTo(t.http, staff, shipping, 'accepted');
    await placeOrder(t.http, owner, { storeId: 2 });
    const otherStaff = await login(t.http, 'staff@other.test');
    await placeOrder(t.http, otherStaff, {
      storeId: other.storeIds[0],
      body: cart('pickup', { items: [{ product_id: other.productIds[0], quantity: 1 }] }),
    });
    await quiet();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('shows store-counters with its lag, which falls to 0 once the pipeline has caught up', async () => {
    ok(await post(platformAdmin, '/api/admin/subscriptions/store-counters/pause'));
    await placeOrder(t.http, staff);
    const paused = await storeCountersStatus();
    expect(paused).toMatchObject({ state: 'paused', rebuildable: true });
    expect(paused!.lag_events).toBeGreaterThanOrEqual(1);

    ok(await post(platformAdmin, '/api/admin/subscriptions/store-counters/resume'));
    await caughtUp();
    expect(await storeCountersStatus()).toMatchObject({ lag_events: 0, lag_seconds: 0, state: 'running', holder: expect.any(String) });
    await quiet();
  });

  it('filters events by name, stream, store and correlation id', async () => {
    const all = (await events(platformAdmin)).events;
    const byName = (await events(platformAdmin, '&name=OrderStatusUpdated,ShippingStatusUpdated')).events;
    expect(byName.map((e) => e.id)).toEqual(all.filter((e) => ['OrderStatusUpdated', 'ShippingStatusUpdated'].includes(e.name)).map((e) => e.id));
    expect(byName.length).toBeGreaterThan(0);

    const stream = `order-${correlated.id}`;
    const byStream = (await events(platformAdmin, `&stream=${stream}`)).events;
    expect(byStream.map((e) => [e.stream, e.name])).toEqual([[stream, 'OrderCreated']]);

    const byStore = (await events(platformAdmin, '&store_id=2')).events;
    expect(byStore.length).toBeGreaterThan(0);
    expect(byStore.map((e) => e.id)).toEqual(all.filter((e) => e.metadata.store_id === 2).map((e) => e.id));

    // The checkout's OrderCreated, and whatever reactions to it carry its correlation id on.
    const byCorrelation = (await events(platformAdmin, '&correlation_id=monitor-checkout-1')).events;
    expect(byCorrelation[0]).toMatchObject({ stream, name: 'OrderCreated' });
    expect(byCorrelation.map((e) => e.id)).toEqual(all.filter((e) => e.metadata.correlation_id === 'monitor-checkout-1').map((e) => e.id));
    expect(all.filter((e) => e.stream === stream && e.metadata.correlation_id !== 'monitor-checkout-1')).toEqual([]);
  });

  it('filters events by a time range: from inclusive, until exclusive', async () => {
    const all = (await events(platformAdmin)).events;
    const from = all[1]!.timestamp;
    const until = all.at(-2)!.timestamp;
    const page = await events(platformAdmin, `&from=${encodeURIComponent(from)}&until=${encodeURIComponent(until)}`);
    const inRange = all.filter((e) => e.timestamp >= from && e.timestamp < until);
    expect(page.events.map((e) => e.id)).toEqual(inRange.map((e) => e.id));
    expect(page.events.length).toBeGreaterThan(0);
  });

  it('pages through events with after and next until has_more is false, seeing each once', async () => {
    const all = (await events(platformAdmin)).events;
    const seen: string[] = [];
    let after = '0.0';
    for (let pages = 0; ; pages++) {
      expect(pages).toBeLessThan(all.length);
      const page = ok<EventPage>(await get(platformAdmin, `/api/admin/events?limit=3&after=${after}`));
      seen.push(...page.events.map((e) => e.id));
      if (!page.has_more) break;
      expect(page.next).toBe(page.events.at(-1)!.checkpoint);
      after = page.next;
    }
    expect(seen).toEqual(all.map((e) => e.id));
  });

  it("shows an owner only their own merchant's events, whatever merchant they ask for", async () => {
    const everything = (await events(platformAdmin)).events;
    const merchants = new Set(everything.map((e) => e.metadata.merchant_id));
    expect(merchants).toEqual(new Set([t.seed.merchantId, other.merchantId]));

    const mine = (await events(owner, `&merchant_id=${other.merchantId}`)).events;
    expect(mine.map((e) => e.id)).toEqual(everything.filter((e) => e.metadata.merchant_id === t.seed.merchantId).map((e) => e.id));
    const theirs = (await events(otherOwner)).events;
    expect(theirs.map((e) => e.id)).toEqual(everything.filter((e) => e.metadata.merchant_id === other.merchantId).map((e) => e.id));
    expect(ok<EventPage>(await get(otherOwner, `/api/admin/events?store_id=${t.seed.storeIds[0]}`)).events).toEqual([]);
  });

  it('refuses staff and managers anything in the operator API', async () => {
    for (const session of [staff, manager]) {
      for (const url of ['/api/admin/events', '/api/admin/subscriptions', '/api/admin/events/throughput', '/api/admin/dead-letters', '/api/admin/event-schemas']) {
        expectError(await get(session, url), 'OPERATOR_FORBIDDEN');
      }
      expectError(await post(session, '/api/admin/dead-letters/retry-all'), 'OPERATOR_FORBIDDEN');
    }
  });

  it('lets only platform admins reset, rebuild, replay, pause or resume a subscription', async () => {
    const calls: [string, object | undefined][] = [
      ['/api/admin/subscriptions/store-counters/reset', { checkpoint: '0.0' }],
      ['/api/admin/subscriptions/store-counters/rebuild', undefined],
      ['/api/admin/subscriptions/store-counters/pause', undefined],
      ['/api/admin/subscriptions/store-counters/resume', undefined],
      ['/api/admin/replays', { subscription: 'store-counters' }],
    ];
    for (const [url, body] of calls) expectError(await post(owner, url, body), 'ADMIN_FORBIDDEN');
    expect(await storeCountersStatus()).toMatchObject({ state: 'running' });
  });

  it('describes every event type as a JSON Schema', async () => {
    const { event_types } = ok<{ event_types: { name: string; version: number; category: string; schema: { type: string; properties: object; required: string[] } }[] }>(
      await get(platformAdmin, '/api/admin/event-schemas'),
    );
    expect(event_types.map((e) => e.name).sort()).toEqual([...EVENT_CATALOGUE.keys()].sort());
    for (const type of event_types) {
      expect(type.version).toBe(EVENT_CATALOGUE.get(type.name)!.version);
      expect(type.schema.type).toBe('object');
      expect(Object.keys(type.schema.properties).length).toBeGreaterThan(0);
    }
    const statusUpdated = event_types.find((e) => e.name === 'OrderStatusUpdated')!;
    expect(statusUpdated.schema.required).toEqual(expect.arrayContaining(['order_id', 'old_status', 'new_status', 'version', 'reason', 'override']));
    expect(ok<object>(await get(owner, '/api/admin/event-schemas'))).toHaveProperty('event_types');
  });

  it('counts events per minute and type, an owner only for their merchant', async () => {
    type Series = { minutes: number; series: { minute: string; name: string; count: number }[] };
    const all = ok<Series>(await get(platformAdmin, '/api/admin/events/throughput?minutes=60'));
    expect(all.minutes).toBe(60);
    for (const point of all.series) expect(new Date(point.minute).getUTCSeconds() + new Date(point.minute).getUTCMilliseconds()).toBe(0);
    const total = (s: Series) => s.series.reduce((n, p) => n + p.count, 0);
    const everything = (await events(platformAdmin)).events;
    expect(total(all)).toBe(everything.length);
    const created = all.series.filter((p) => p.name === 'OrderCreated').reduce((n, p) => n + p.count, 0);
    expect(created).toBe(everything.filter((e) => e.name === 'OrderCreated').length);

    const theirs = ok<Series>(await get(otherOwner, '/api/admin/events/throughput'));
    expect(total(theirs)).toBe(everything.filter((e) => e.metadata.merchant_id === other.merchantId).length);
  });

  it('exposes event, lag, failure and dead-letter metrics', async () => {
    const res = await t.http.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    for (const metric of [
      'storeflow_events_appended_total',
      'storeflow_subscription_lag_events',
      'storeflow_subscription_lag_seconds',
      'storeflow_handler_failures_total',
      'storeflow_dead_letters_parked_total',
    ]) {
      expect(res.body).toContain(`# TYPE ${metric} `);
    }
    expect(res.body).toMatch(/storeflow_events_appended_total\{name="OrderCreated"\} [1-9]/);
    expect(res.body).toMatch(/storeflow_subscription_lag_events\{subscription="store-counters"\} \d/);
  });

  it('times HTTP requests by route pattern and status class, never by raw path', async () => {
    await get(platformAdmin, '/api/admin/events?limit=1');
    await t.http.inject({ method: 'GET', url: '/api/no-such-thing/12345' });
    const body = (await t.http.inject({ method: 'GET', url: '/metrics' })).body;
    expect(body).toContain('# TYPE storeflow_http_request_duration_seconds histogram');
    expect(body).toMatch(/storeflow_http_request_duration_seconds_count\{method="GET",route="\/api\/admin\/events",status="2xx"\} [1-9]/);
    expect(body).toMatch(/storeflow_http_request_duration_seconds_count\{method="GET",route="unmatched",status="4xx"\} [1-9]/);
    expect(body).not.toContain('12345');
  });

  it('answers bad input with the documented errors', async () => {
    expectError(await get(platformAdmin, '/api/admin/events?after=yesterday'), 'CHECKPOINT_INVALID');
    expectError(await get(platformAdmin, '/api/admin/events?limit=0'), 'VALIDATION_FAILED');
    expectError(await get(platformAdmin, '/api/admin/events?from=last-tuesday'), 'VALIDATION_FAILED');
    expectError(await post(platformAdmin, '/api/admin/subscriptions/store-counters/reset', { checkpoint: 'start' }), 'CHECKPOINT_INVALID');
    expectError(await post(platformAdmin, '/api/admin/subscriptions/store-counters/reset', {}), 'VALIDATION_FAILED');
    for (const action of ['reset', 'rebuild', 'pause', 'resume']) {
      const body = action === 'reset' ? { checkpoint: '0.0' } : undefined;
      expectError(await post(platformAdmin, `/api/admin/subscriptions/no-such-subscription/${action}`, body), 'SUBSCRIPTION_NOT_FOUND');
    }
    expectError(await post(platformAdmin, '/api/admin/replays', { subscription: 'no-such-subscription' }), 'SUBSCRIPTION_NOT_FOUND');
    expectError(await post(platformAdmin, '/api/admin/replays', { subscription: 'store-counters' }), 'SUBSCRIPTION_NOT_REPLAYABLE');
    expectError(await post(platformAdmin, '/api/admin/dead-letters/999999/retry'), 'DEAD_LETTER_NOT_FOUND');
    const malformed = await t.http.inject({
      method: 'POST',
      url: '/api/admin/subscriptions/store-counters/reset',
      headers: { ...platformAdmin.headers, 'content-type': 'application/json' },
      payload: '{"checkpoint": ',
    });
    expectError(malformed, 'MALFORMED_JSON');
  });

  describe('the store-counters projection', () => {
    /** The same figures computed afresh from the orders table. */
    async function fromOrders(storeId: number) {
      const byStatus = await t.db.query<{ status: string; n: number }>(
        'SELECT status, count(*)::int AS n FROM orders WHERE store_id = $1 GROUP BY status ORDER BY status',
        [storeId],
      );
      const perHour = await t.db.query<{ hour: Date; n: number }>(
        `SELECT date_trunc('hour', created_at) AS hour, count(*)::int AS n FROM orders WHERE store_id = $1
         GROUP BY 1 ORDER BY 1 DESC LIMIT 48`,
        [storeId],
      );
      return {
        by_status: Object.fromEntries(byStatus.map((r) => [r.status, r.n])),
        per_hour: perHour.map((r) => ({ hour: new Date(r.hour).toISOString(), count: r.n })),
      };
    }

    async function expectProjectionMatchesOrders() {
      await caughtUp();
      for (const storeId of [...t.seed.storeIds, ...other.storeIds]) {
        expect(await storeCounters(t.db, storeId), `store ${storeId}`).toEqual(await fromOrders(storeId));
      }
    }

    async function command(session: Session, order: OrderView, action: string, payload: object): Promise<OrderView> {
      const res = await post(session, `/api/stores/${order.store_id}/orders/${order.id}/${action}`, { ...payload, version: order.version });
      return ok<{ order: OrderView }>(res).order;
    }

    it('agrees with the orders table after many orders move, and again after a rebuild', async () => {
      const pickupPath = ['accepted', 'in_progress', 'ready', 'completed'];
      for (let i = 0; i < 10; i++) {
        let order = await placeOrder(t.http, staff);
        for (const status of pickupPath.slice(0, i % 5)) order = await moveTo(t.http, staff, order, status);
        if (i === 5) await command(manager, order, 'reject', { reason: 'closing early' });
        if (i === 6) await command(manager, order, 'cancel', { reason: 'out of beans' });
      }
      for (let i = 0; i < 4; i++) {
        let order = await placeOrder(t.http, owner, { storeId: 2, type: 'shipping' });
        if (i === 0) {
          await command(owner, order, 'reject', { reason: 'address unreachable' });
          continue;
        }
        order = await moveTo(t.http, owner, order, 'accepted');
        if (i >= 2) order = await moveTo(t.http, owner, order, 'packing');
        if (i >= 3) order = await command(owner, order, 'ship', { tracking_code: `TRACK-${i}` });
      }
      const late = await placeOrder(t.http, staff);
      await command(owner, late, 'override', { status: 'ready', reason: 'prepared ahead' });

      await expectProjectionMatchesOrders();

      // Spoil the projection so that only a real rebuild can make it right again.
      await t.db.query('UPDATE store_order_counts SET count = count + 7');
      await t.db.query('DELETE FROM store_orders_per_hour');
      const res = await post(platformAdmin, '/api/admin/subscriptions/store-counters/rebuild');
      expect(ok(res, 202)).toEqual({ subscription: 'store-counters', status: 'rebuilding' });

      await expectProjectionMatchesOrders();
    });
  });
});
