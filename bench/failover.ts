/**
 * Failure bounds, measured with real processes (the failure suites' support code): a private
 * PostgreSQL of its own, two StoreFlow nodes (every role) on it.
 *
 * 1. PostgreSQL stopped (`pg_ctl stop -m fast`): time for a checkout to answer 503.
 * 2. PostgreSQL started again: time until readiness is 200, and to the first 201.
 * 3. PostgreSQL frozen (SIGSTOP; nothing answers): time for a checkout, and for readiness,
 *    to answer 503 with DATABASE_STATEMENT_TIMEOUT_MS = BENCH_STATEMENT_MS (3000).
 * 4. SIGTERM on the node holding every lease (the other's lease retry set to ten minutes):
 *    time until the other holds all of them, and until the process has exited.
 *
 *   npx tsx bench/failover.ts
 *
 * Needs the PostgreSQL binaries (STOREFLOW_TEST_PG_BIN, default /usr/lib/postgresql/15/bin).
 * Prints one line per figure. Not a test: nothing is asserted.
 */
import { hostname } from 'node:os';
import pg from 'pg';
import { killAllNodes, startNode } from '../test/support/cluster-processes.js';
import { call, checkout } from '../test/support/node-http.js';
import { startPrivatePostgres } from '../test/support/private-postgres.js';
import { waitFor } from '../test/support/waiting.js';

const statementMs = Number(process.env.BENCH_STATEMENT_MS ?? 3_000);
const since = (t: number) => Date.now() - t;

const server = await startPrivatePostgres();
try {
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query('CREATE DATABASE storeflow');
  await admin.end();
  const url = server.url.replace(/\/postgres$/, '/storeflow');
  const db = new pg.Pool({ connectionString: url, max: 1 });
  db.on('error', () => {});
  const env = { DATABASE_URL: url, DATABASE_STATEMENT_TIMEOUT_MS: String(statementMs), LOG_LEVEL: 'warn' };
  const a = await startNode({ ...env, LOG_LEVEL: 'info' });
  const b = await startNode({ ...env, LOG_LEVEL: 'info', STOREFLOW_SEED_DEMO: 'false', PIPELINE_LEASE_RETRY_MS: '600000' });
  for (let i = 0; i < 20; i++) await checkout(a.url);

  await server.stop('fast');
  const refused: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t = Date.now();
    await checkout(a.url, undefined, 60_000);
    refused.push(since(t));
  }
  console.log(`1. stopped: checkout answers 503 in ${refused.join(', ')} ms`);

  await server.start();
  let t = Date.now();
  await waitFor('readiness', async () => (await call(a.url, 'GET', '/health/ready')).status === 200, 30_000);
  const ready = since(t);
  await waitFor('a checkout', async () => (await checkout(a.url)).status === 201, 30_000);
  console.log(`2. started: readiness 200 after ${ready} ms, first 201 after ${since(t)} ms (from pg_ctl start returning)`);

  server.freeze();
  try {
    t = Date.now();
    const frozenCheckout = await checkout(a.url, undefined, 60_000);
    const checkoutMs = since(t);
    t = Date.now();
    const frozenReady = await call(a.url, 'GET', '/health/ready', { timeoutMs: 60_000 });
    console.log(`3. frozen: checkout ${frozenCheckout.status} after ${checkoutMs} ms, readiness ${frozenReady.status} after ${since(t)} ms (statement timeout ${statementMs} ms)`);
  } finally {
    server.thaw();
  }

  await waitFor('a to hold every lease', async () => {
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = 727002`);
    return rows[0].n === 4;
  }, 30_000);
  await new Promise((r) => setTimeout(r, 2_000));
  t = Date.now();
  const exited = a.kill('SIGTERM');
  await waitFor('b to hold every lease', async () => {
    const { rows } = await db.query('SELECT holder FROM subscriptions');
    return rows.every((r) => r.holder === `${hostname()}:${b.pid}`);
  }, 30_000);
  const handOver = since(t);
  const code = await exited;
  console.log(`4. SIGTERM: every lease on the other node after ${handOver} ms, exit ${code} after ${since(t)} ms`);
  await db.end();
} finally {
  await killAllNodes();
  await server.destroy();
}
process.exit(0);
