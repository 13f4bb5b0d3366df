import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PgDatabase, migrate } from '../../src/store/index.js';
import { killAllNodes, startNode } from '../support/cluster-processes.js';
import { isCI } from '../support/databases.js';
import { expectErrorBody } from '../support/http-app.js';
import { call, checkout, findOrder, moveOrder, signIn } from '../support/node-http.js';
import { logTail, waitForCheckpointPast } from '../support/pipeline-harness.js';
import { privatePostgresUnavailable, startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { waitFor } from '../support/waiting.js';
import { killAllWorkers, startedWorker } from '../support/worker-processes.js';

/**
 * PostgreSQL stopped and started again (or frozen and thawed) under running StoreFlow nodes (a private server
 * of this test's own): a web node and a worker node, so the worker only hears of the web
 * node's commits through LISTEN/NOTIFY (polling is set to a minute, past the test's bounds).
 * While it is down, writes answer 503 DATABASE_UNAVAILABLE within the connect timeout and
 * readiness says so; once it is back, without restarting anything, writes succeed, the
 * worker's leases, LISTEN and subscriptions recover and catch up, and nothing half-written
 * is left behind.
 */
const CONNECT_TIMEOUT_MS = 2_000;
/** Longest a write may take to answer while the database is down: the connect timeout, plus slack for a loaded machine. */
const BOUND_MS = CONNECT_TIMEOUT_MS + 5_000;

const unavailable = await privatePostgresUnavailable();
if (unavailable && !isCI) console.warn(`skipped: ${unavailable}`);

(unavailable && !isCI ? describe.skip : describe)(`PostgreSQL restarted under running nodes [private PostgreSQL, child processes]${unavailable ? ` — skipped: ${unavailable}` : ''}`, () => {
  let server: PrivatePostgres;
  let url: string;
  let db: PgDatabase;

  beforeAll(async () => {
    server = await startPrivatePostgres();
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE DATABASE storeflow');
    await admin.end();
    url = server.url.replace(/\/postgres$/, '/storeflow');
    db = new PgDatabase({ connectionString: url, max: 2, connectionTimeoutMillis: 2_000 });
  }, 60_000);
  afterEach(killAllNodes);
  afterAll(async () => {
    await db?.close().catch(() => {});
    await server?.destroy();
  });

  it('answers 503 within the bound while it is down, reports it, and recovers without a restart', { timeout: 90_000 }, async () => {
    const env = { DATABASE_URL: url, DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS), PIPELINE_POLL_INTERVAL_MS: '60000', PIPELINE_LEASE_RETRY_MS: '500' };
    const web = await startNode(env, ['--role', 'web']);
    const worker = await startNode({ ...env, STOREFLOW_SEED_DEMO: 'false' }, ['--role', 'worker']);
    const staff = await signIn(web.url, 'staff');
    const before = await checkout(web.url);
    expect(before.status, JSON.stringify(before.body)).toBe(201);
    await waitForCheckpointPast(db, 'notifier', await logTail(db));
    expect((await call(web.url, 'GET', '/health/ready')).status).toBe(200);

    await server.stop('fast');

    const failed = await checkout(web.url, 'checkout-during-outage', BOUND_MS);
    expect(failed.status, JSON.stringify(failed.body)).toBe(503);
    expectErrorBody(failed.status, failed.body);
    expect(failed.body.error.code).toBe('DATABASE_UNAVAILABLE');
    const order = { id: 1, version: 1 };
    const move = await moveOrder(web.url, staff, order.id, 'accepted', order.version, BOUND_MS);
    expect(move.status, JSON.stringify(move.body)).toBe(503);
    expect(move.body.error.code).toBe('DATABASE_UNAVAILABLE');
    for (const node of [web, worker]) {
      const ready = await call(node.url, 'GET', '/health/ready', { timeoutMs: BOUND_MS });
      expect(ready.status, JSON.stringify(ready.body)).toBe(503);
      expect(ready.body).toMatchObject({ status: 'unavailable', checks: { database: { kind: 'postgres', status: 'down' } }, error: { code: 'NOT_READY' } });
      // Liveness stays 200: the node is alive and recovers by itself; no orchestrator should restart it.
      const live = await call(node.url, 'GET', '/health', { timeoutMs: BOUND_MS });
      expect(live.status).toBe(200);
      expect(live.body).toMatchObject({ status: 'ok', database: { status: 'down' } });
    }

    await server.start();

    await waitFor('the web node to be ready again', async () => (await call(web.url, 'GET', '/health/ready')).status === 200);
    const retried = await checkout(web.url, 'checkout-during-outage');
    expect(retried.status, JSON.stringify(retried.body)).toBe(201);
    const first = await findOrder(web.url, staff, before.body.order.public_id);
    expect((await moveOrder(web.url, staff, first.id, 'accepted', first.version)).status).toBe(200);
    // The worker's subscriptions take their leases again and catch up from their checkpoints.
    const tail = await logTail(db);
    for (const subscription of ['notifier', 'store-counters', 'merchant-webhooks']) await waitForCheckpointPast(db, subscription, tail, 30_000);
    // With polling a minute away, only a re-established LISTEN wakes the worker for this one.
    const after = await checkout(web.url);
    expect(after.status).toBe(201);
    await waitForCheckpointPast(db, 'notifier', await logTail(db), 30_000);

    // Nothing half-written: exactly the orders that were answered 201, each with its event and its notifications.
    const [counts] = await db.query<{ orders: number; created: number; notified: number }>(
      `SELECT (SELECT count(*) FROM orders)::int AS orders,
              (SELECT count(*) FROM events WHERE name = 'OrderCreated')::int AS created,
              (SELECT count(DISTINCT source_event_id) FROM notifications WHERE kind = 'order_created')::int AS notified`,
    );
    expect(counts).toEqual({ orders: 3, created: 3, notified: 3 });
    // The delivery worker resumed too: the notifier's emails all went out (to the log).
    await waitFor('every delivery to be delivered', async () => {
      const [row] = await db.query<{ open: number; total: number }>(`SELECT count(*) FILTER (WHERE status <> 'delivered')::int AS open, count(*)::int AS total FROM deliveries`);
      return row && row.total > 0 && row.open === 0;
    });
    expect(web.hasExited() || worker.hasExited()).toBe(false);
  });

  it('hands a lease released right after a restart to the standby, though its LISTEN was not back yet', { timeout: 60_000 }, async () => {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE DATABASE storeflow_leases');
    await admin.end();
    const leasesUrl = server.url.replace(/\/postgres$/, '/storeflow_leases');
    const leasesDb = new PgDatabase({ connectionString: leasesUrl, max: 1 });
    await migrate(leasesDb);
    await leasesDb.close();
    try {
      const holder = await startedWorker({ DATABASE_URL: leasesUrl, LEASE_RETRY_MS: '100' });
      await holder.waitForLine('lease');
      // The standby would next try the lease in ten minutes: only the announcement, or its
      // LISTEN coming back, may wake it.
      const standby = await startedWorker({ DATABASE_URL: leasesUrl, LEASE_RETRY_MS: '600000' });

      await server.stop('fast');
      await server.start();
      // The holder takes its lease again at once (it retries every 50 ms) and is stopped
      // straight away: its announcement goes out while the standby's LISTEN (retried every
      // second) is most likely still down.
      await holder.waitForLine('lease', 2, 15_000);
      await holder.kill('SIGTERM');
      expect(await holder.exited).toBe(0);
      await standby.waitForLine('lease', 1, 15_000);
    } finally {
      await killAllWorkers();
    }
  });

  it('answers 503 within the bound while PostgreSQL answers nothing at all, and recovers when it does again', { timeout: 90_000 }, async () => {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE DATABASE storeflow_frozen');
    await admin.end();
    const frozenUrl = server.url.replace(/\/postgres$/, '/storeflow_frozen');
    const frozenDb = new PgDatabase({ connectionString: frozenUrl, max: 2 });
    try {
      // No answers at all: statement_timeout never fires, so the bound is the client's (statement + 2 s).
      const statementMs = 3_000;
      const bound = statementMs + 2_000 + 5_000;
      const node = await startNode({
        DATABASE_URL: frozenUrl,
        DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
        DATABASE_STATEMENT_TIMEOUT_MS: String(statementMs),
        PIPELINE_LEASE_RETRY_MS: '500',
      });
      const staff = await signIn(node.url, 'staff');
      expect((await checkout(node.url)).status).toBe(201);
      await waitForCheckpointPast(frozenDb, 'notifier', await logTail(frozenDb));

      server.freeze();
      try {
        const failed = await checkout(node.url, 'checkout-while-frozen', bound);
        expect(failed.status, JSON.stringify(failed.body)).toBe(503);
        expect(failed.body.error.code).toBe('DATABASE_UNAVAILABLE');
        const ready = await call(node.url, 'GET', '/health/ready', { timeoutMs: bound });
        expect(ready.status).toBe(503);
        expect(ready.body).toMatchObject({ checks: { database: { status: 'down' } }, error: { code: 'NOT_READY' } });
        expect((await call(node.url, 'GET', '/health', { timeoutMs: bound })).status).toBe(200);
      } finally {
        server.thaw();
      }

      await waitFor('the node to be ready again', async () => (await call(node.url, 'GET', '/health/ready')).status === 200);
      const retried = await checkout(node.url, 'checkout-while-frozen');
      expect(retried.status, JSON.stringify(retried.body)).toBe(201);
      const order = await findOrder(node.url, staff, retried.body.order.public_id);
      expect((await moveOrder(node.url, staff, order.id, 'accepted', order.version)).status).toBe(200);
      // The subscriptions' lease connections were frozen too: cut, given up, taken again.
      const tail = await logTail(frozenDb);
      for (const subscription of ['notifier', 'store-counters', 'broadcaster']) await waitForCheckpointPast(frozenDb, subscription, tail, 30_000);
      const [counts] = await frozenDb.query<{ orders: number; created: number }>(
        `SELECT (SELECT count(*) FROM orders)::int AS orders, (SELECT count(*) FROM events WHERE name = 'OrderCreated')::int AS created`,
      );
      expect(counts).toEqual({ orders: 2, created: 2 });
      expect(node.hasExited()).toBe(false);
    } finally {
      await frozenDb.close();
    }
  });
});
