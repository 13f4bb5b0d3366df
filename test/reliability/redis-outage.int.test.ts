import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { killAllNodes, startNode, startProxy, type TcpProxy } from '../support/cluster-processes.js';
import { ORDER_EVENTS, startFeedClient, type FeedClient } from '../support/feed-clients.js';
import { TEST_PUSHER_APP } from '../support/http-app.js';
import { call, checkout, findOrder, moveOrder, orderLoad, signIn, storeEvents } from '../support/node-http.js';
import { logTail, waitForCheckpointPast } from '../support/pipeline-harness.js';
import { describeWithPrivateRedis } from '../support/failure-suite.js';
import { testApp, testSign } from '../support/realtime-apps.js';
import { RawClient } from '../support/realtime-clients.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis.js';
import { waitFor } from '../support/waiting.js';

/**
 * Redis (a private redis-server of the test's own) failing under running StoreFlow nodes.
 * Real-time is an enhancement, never a condition of a write (seed 000 §20): with Redis gone,
 * and WebSockets dropping, checkouts and status changes answer 2xx and are in the log; the
 * broadcaster's failures stay its own (retried, then parked as dead letters) while the other
 * subscriptions go on; readiness says `degraded`, not down. When Redis is back, broadcasting
 * resumes by itself and screens that catch up have every event exactly once.
 */
const byPosition = (a: string, b: string) => {
  const [ta, pa] = a.split('.').map(BigInt) as [bigint, bigint];
  const [tb, pb] = b.split('.').map(BigInt) as [bigint, bigint];
  return ta === tb ? Number(pa - pb) : ta < tb ? -1 : 1;
};

await describeWithPrivateRedis('Redis failing under running nodes [postgres, private Redis, child processes]', (database) => {
  let redis: PrivateRedis | undefined;
  let proxy: TcpProxy | undefined;
  let dir: string | undefined;
  const clients: FeedClient[] = [];

  afterEach(async () => {
    for (const c of clients.splice(0)) c.stop();
    await killAllNodes();
    await proxy?.close();
    proxy = undefined;
    await redis?.stop('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('never fails or rolls back an order write when Redis is down and sockets drop', { timeout: 90_000 }, async () => {
    const db = database().db;
    redis = await startPrivateRedis();
    const node = await startNode({ DATABASE_URL: database().url!, REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'outage-a:' });
    const staff = await signIn(node.url, 'staff');
    // A screen whose socket dies mid-traffic: a WebSocket failure on the node's side of things.
    const { client: screen, socketId } = await RawClient.established(`ws://127.0.0.1:${node.port}/app/${TEST_PUSHER_APP.key}?protocol=7`);
    screen.subscribe('private-store.1.orders', testSign.channel(testApp(TEST_PUSHER_APP), socketId, 'private-store.1.orders'));
    await screen.next('pusher_internal:subscription_succeeded');

    await redis.stop('SIGKILL');
    const publicIds: string[] = [];
    for (let i = 0; i < 5; i++) {
      const created = await checkout(node.url, `redis-down-${i}-${Date.now()}`);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      publicIds.push(created.body.order.public_id);
      if (i === 2) screen.close();
      const order = await findOrder(node.url, staff, created.body.order.public_id);
      const moved = await moveOrder(node.url, staff, order.id, 'accepted', order.version, 15_000);
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    }

    // Every write is in the database and in the log.
    const rows = await db.query<{ public_id: string; status: string; version: number }>(
      'SELECT public_id, status, version FROM orders WHERE public_id = ANY($1::text[]) ORDER BY id',
      [publicIds],
    );
    expect(rows).toEqual(publicIds.map((public_id) => ({ public_id, status: 'accepted', version: 2 })));
    const [logged] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM events WHERE name IN ('OrderCreated', 'OrderStatusUpdated') AND payload->>'public_id' = ANY($1::text[])`,
      [publicIds],
    );
    expect(logged?.n).toBe(10);
    // The broadcaster's failures are its own: retried, then parked; the other subscriptions went on.
    await waitFor('the broadcaster to park what it could not publish', async () => {
      const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM dead_letters WHERE subscription = 'broadcaster'`);
      return (row?.n ?? 0) > 0;
    }, 30_000);
    const tail = await logTail(db);
    for (const subscription of ['notifier', 'store-counters']) await waitForCheckpointPast(db, subscription, tail);
    const ready = await call(node.url, 'GET', '/health/ready');
    expect(ready.status, JSON.stringify(ready.body)).toBe(200);
    expect(ready.body).toMatchObject({ status: 'degraded', checks: { database: { status: 'up' }, redis: { required: false, status: 'down' } } });
  });

  it('starts, and takes orders, with REDIS_URL pointing at a Redis that is not running', { timeout: 60_000 }, async () => {
    redis = await startPrivateRedis();
    await redis.stop('SIGKILL');
    const node = await startNode({ DATABASE_URL: database().url!, REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'outage-c:', STOREFLOW_SEED_DEMO: 'false' });
    const staff = await signIn(node.url, 'staff');
    const created = await checkout(node.url);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const order = await findOrder(node.url, staff, created.body.order.public_id);
    expect((await moveOrder(node.url, staff, order.id, 'accepted', order.version)).status).toBe(200);
    const ready = await call(node.url, 'GET', '/health/ready');
    expect(ready.status, JSON.stringify(ready.body)).toBe(200);
    expect(ready.body).toMatchObject({ status: 'degraded', checks: { redis: { status: 'down' } } });
    // Once Redis is there, the node joins by itself: readiness is whole again.
    await redis.start();
    await waitFor('readiness to see Redis', async () => (await call(node.url, 'GET', '/health/ready')).body.status === 'ready', 30_000);
  });

  it('keeps taking orders while Redis is stopped under load, and broadcasting resumes by itself when it is back', { timeout: 120_000 }, async () => {
    redis = await startPrivateRedis();
    dir = mkdtempSync(join(tmpdir(), 'storeflow-screens-'));
    const env = { DATABASE_URL: database().url!, REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'outage-b:', STOREFLOW_SEED_DEMO: 'false' };
    const a = await startNode(env);
    const b = await startNode(env);
    proxy = await startProxy([a.port, b.port]);
    const staff = await signIn(proxy.url, 'staff');
    for (let i = 0; i < 4; i++) clients.push(startFeedClient({ name: `screen-${i}`, dir, port: proxy.port, baseUrl: proxy.url, cookie: staff.cookie! }));
    await waitFor('every screen connected', () => clients.every((c) => c.feed.state === 'connected'));
    const start = (await storeEvents(proxy.url, staff)).length;

    let running = true;
    const load = orderLoad(proxy.url, staff, { workers: 2, running: () => running, maxOrders: 60 });
    const moved = () => load.outcomes.filter((o) => o.op === 'move' && o.status === 200).length;
    await waitFor('traffic under way', () => moved() >= 8, 30_000);
    await redis.stop('SIGKILL');
    const atStop = moved();
    await waitFor('traffic to go on without Redis', () => moved() >= atStop + 16, 30_000);
    await redis.start();
    const restartedAt = Date.now();
    await waitFor('every screen to get live events again', () => clients.every((c) => c.entries().some((e) => e.origin === 'live' && e.at > restartedAt)), 30_000);
    running = false;
    await load.done;

    // Not one write failed: every call answered 2xx.
    expect(load.outcomes.filter((o) => o.status !== 200 && o.status !== 201)).toEqual([]);
    const events = await storeEvents(proxy.url, staff);
    expect(events.length).toBeGreaterThan(start);
    const expected = events.filter((e) => (ORDER_EVENTS as readonly string[]).includes(e.name)).map((e) => e.checkpoint);
    const last = expected.at(-1);
    await waitFor('every screen caught up to the end of the log', () => {
      // The cursor follows every event of the store (a notification may come after the last order event).
      for (const c of clients) if (byPosition(c.feed.position, last!) < 0) void c.feed.refresh();
      return clients.every((c) => byPosition(c.feed.position, last!) >= 0);
    }, 30_000);
    for (const c of clients) {
      const positions = c.entries().map((e) => e.position);
      expect([...positions].sort(byPosition), `${c.name}'s log`).toEqual(expected);
    }
  });
});
