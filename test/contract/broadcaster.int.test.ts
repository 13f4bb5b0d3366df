import { afterAll, beforeAll, expect, it } from 'vitest';
import { deadLetterSql } from '../../src/pipeline/index.js';
import type { Publication } from '../../src/realtime/index.js';
import { Broadcaster } from '../../src/reactions/index.js';
import { systemClock, type Clock } from '../../src/shared/index.js';
import { describeEachAdapter } from '../support/databases.js';
import { login, moveTo, placeOrder, startTestApp, type Session, type TestApp } from '../support/http-app.js';
import { logTail, startPipeline, subscribeFrom } from '../support/pipeline-harness.js';
import { waitFor } from '../support/waiting.js';

/** A real-time side that can be told to fail, and remembers what it was asked to publish. */
class FlakyRealtime {
  readonly published: Publication[] = [];
  failures = 0;
  /** How many of the next publishes fail. */
  failNext = 0;
  /** Publishes of this event name fail, always. */
  poison: ((p: Publication) => boolean) | null = null;

  async publish(p: Publication): Promise<void> {
    if (this.failNext > 0 || this.poison?.(p)) {
      this.failNext = Math.max(0, this.failNext - 1);
      this.failures++;
      throw new Error('fan-out unreachable');
    }
    this.published.push(p);
  }
}

/**
 * The broadcaster as a pipeline subscription over real commands: what it publishes, and
 * that a failing real-time side never touches the writes — failures are retried in order,
 * and parked after the last attempt while the broadcasts go on.
 */
await describeEachAdapter('broadcaster subscription', ({ db: getDb }) => {
  let t: TestApp;
  let staff: Session;

  beforeAll(async () => {
    t = await startTestApp({ database: { db: getDb(), url: null, drop: async () => {} } });
    staff = await login(t.http, 'staff');
  });
  afterAll(async () => {
    await t?.close();
  });

  const run = async (realtime: FlakyRealtime, o: { clock?: Clock; maxAgeMs?: number } = {}) => {
    await subscribeFrom(t.db, 'broadcaster', await logTail(t.db));
    const broadcaster = new Broadcaster({ realtime, appId: 'storeflow', clock: o.clock ?? systemClock, maxAgeMs: o.maxAgeMs ?? 0 });
    return startPipeline(t.db, t.flow.log, [broadcaster]);
  };
  const names = (r: FlakyRealtime, orderId: number) =>
    r.published.filter((p) => JSON.parse(p.data).order_id === orderId).map((p) => `${p.event}@${p.channels.join(',')}`);

  it('publishes each event on its channels as the app, in log order', async () => {
    const realtime = new FlakyRealtime();
    await run(realtime);
    const order = await placeOrder(t.http, staff);
    await moveTo(t.http, staff, order, 'accepted');
    await waitFor('two staff broadcasts', () => names(realtime, order.id).length === 2);
    expect(names(realtime, order.id)).toEqual(['OrderCreated@private-store.1.orders', 'OrderStatusUpdated@private-store.1.orders']);
    expect(realtime.published.every((p) => p.appId === 'storeflow')).toBe(true);
    expect(realtime.published.map((p) => p.channels[0])).toContain(`customer.${order.public_id}.order`);
  });

  it('commits the write whatever the real-time side does; a failed publish is retried and the broadcasts keep their order', async () => {
    const realtime = new FlakyRealtime();
    realtime.failNext = 3;
    await run(realtime);
    const order = await placeOrder(t.http, staff);
    const moved = await moveTo(t.http, staff, order, 'accepted');
    expect(moved.status).toBe('accepted');
    await waitFor('both broadcasts after the retries', () => names(realtime, order.id).length === 2, 15_000);
    expect(realtime.failures).toBe(3);
    expect(names(realtime, order.id)).toEqual(['OrderCreated@private-store.1.orders', 'OrderStatusUpdated@private-store.1.orders']);
  });

  it('parks an event whose publish keeps failing, and broadcasts the ones after it', async () => {
    const realtime = new FlakyRealtime();
    const order = await placeOrder(t.http, staff);
    realtime.poison = (p) => p.event === 'OrderStatusUpdated' && JSON.parse(p.data).order_id === order.id && JSON.parse(p.data).version === 2;
    await run(realtime);
    const accepted = await moveTo(t.http, staff, order, 'accepted');
    await moveTo(t.http, staff, accepted, 'in_progress');
    await waitFor('the later update', () => names(realtime, order.id).length === 1, 15_000);
    expect(realtime.published.filter((p) => p.event === 'OrderStatusUpdated').map((p) => JSON.parse(p.data).new_status)).toContain('in_progress');
    const parked = await deadLetterSql.list(t.db, { subscription: 'broadcaster', status: 'parked', limit: 10 });
    expect(parked.map((d) => d.event_name)).toEqual(['OrderStatusUpdated']);
    expect(parked[0]?.attempts).toBe(5);
  });

  it('carries X-Socket-ID into the event metadata and excludes that socket from the broadcasts', async () => {
    const realtime = new FlakyRealtime();
    await run(realtime);
    const order = await placeOrder(t.http, staff);
    const res = await t.http.inject({
      method: 'PATCH', url: `/api/stores/1/orders/${order.id}/status`,
      headers: { ...staff.headers, 'x-socket-id': '123456.789' }, payload: { status: 'accepted', version: 1 },
    });
    expect(res.statusCode, res.body).toBe(200);
    const badHeader = await t.http.inject({
      method: 'PATCH', url: `/api/stores/1/orders/${order.id}/status`,
      headers: { ...staff.headers, 'x-socket-id': 'not a socket' }, payload: { status: 'in_progress', version: 2 },
    });
    expect(badHeader.statusCode, badHeader.body).toBe(200);
    await waitFor('the updates', () => names(realtime, order.id).length === 3);
    const updates = realtime.published.filter((p) => p.event === 'OrderStatusUpdated' && JSON.parse(p.data).public_id === order.public_id);
    expect(updates.map((p) => [JSON.parse(p.data).new_status, p.excludeSocketId])).toEqual([
      ['accepted', '123456.789'], ['accepted', '123456.789'], ['in_progress', undefined], ['in_progress', undefined],
    ]);
    const events = await t.http.inject({ method: 'GET', url: '/api/stores/1/events?after=0.0&limit=1000', headers: staff.headers });
    const logged = events.json().events.filter((e: { name: string; payload: { order_id: number } }) => e.name === 'OrderStatusUpdated' && e.payload.order_id === order.id);
    expect(logged.map((e: { metadata: { socket_id?: string } }) => e.metadata.socket_id)).toEqual(['123456.789', undefined]);
  });

  it('skips events older than its maximum age, and moves on', async () => {
    const realtime = new FlakyRealtime();
    const later: Clock = { now: () => new Date(Date.now() + 3_600_000) };
    const pipeline = await run(realtime, { clock: later, maxAgeMs: 60_000 });
    const order = await placeOrder(t.http, staff);
    await waitFor('the broadcaster to pass the order', async () =>
      (await t.flow.pipelineAdmin.status()).find((s) => s.name === 'broadcaster')?.lag_events === 0);
    await pipeline.stop();
    expect(names(realtime, order.id)).toEqual([]);
  });
});
