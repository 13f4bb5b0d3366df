import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pipeline, silentObserver, type Subscriber } from '../../src/pipeline/index.js';
import { systemClock } from '../../src/shared/index.js';
import { EventLog, PgDatabase } from '../../src/store/index.js';
import { createProbeHandledTables } from './probe-handled.js';

/**
 * A pipeline worker process for the reliability suites (test/reliability), started with
 * `node --import tsx test/support/pipeline-worker.ts`. It opens PostgreSQL at DATABASE_URL
 * and runs a Pipeline with one probe subscription that records into `probe_handled` and
 * `probe_attempts` (test/support/probe-handled.ts). It prints `ready` once started and
 * `lease` whenever it takes the subscription's lease; SIGTERM stops it cleanly.
 *
 * Env: DATABASE_URL (required); PROBE_SUBSCRIPTION (default `probe`); PROBE_DELAY_MS, a
 * sleep per event inside `handle` to widen crash windows (default 0); PROBE_POISON_IDS,
 * comma-separated event ids the probe always throws on; PROBE_MAX_ATTEMPTS and
 * PROBE_BASE_DELAY_MS, its retry policy; BATCH_SIZE, POLL_INTERVAL_MS, LEASE_RETRY_MS.
 */
const env = process.env;
const url = env.DATABASE_URL;
if (!url) {
  process.stderr.write('DATABASE_URL is required\n');
  process.exit(2);
}
const number = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);

const name = env.PROBE_SUBSCRIPTION ?? 'probe';
const delayMs = number('PROBE_DELAY_MS', 0);
const poison = new Set((env.PROBE_POISON_IDS ?? '').split(',').filter(Boolean));
const baseDelayMs = number('PROBE_BASE_DELAY_MS', 20);

const db = new PgDatabase({ connectionString: url, max: 4 });
await db.transaction(async (tx) => {
  // Two workers may start at once; CREATE TABLE IF NOT EXISTS is not safe against itself.
  await tx.query('SELECT pg_advisory_xact_lock(727099)');
  await createProbeHandledTables(tx);
});

const probe: Subscriber = {
  name,
  retry: { maxAttempts: number('PROBE_MAX_ATTEMPTS', 3), baseDelayMs, maxDelayMs: baseDelayMs * 4 },
  async handle(event, tx) {
    await db.query('INSERT INTO probe_attempts (subscription, event_id, pid) VALUES ($1, $2, $3)', [name, event.id, process.pid]);
    if (delayMs > 0) await sleep(delayMs);
    if (poison.has(event.id)) throw new Error(`poison event ${event.id}`);
    await tx.query(
      'INSERT INTO probe_handled (subscription, event_id, transaction_id, position, pid) VALUES ($1, $2, $3::xid8, $4, $5)',
      [name, event.id, event.transaction_id, event.position, process.pid],
    );
  },
};

const log = new EventLog(`pipeline-worker-${process.pid}`, () => systemClock.now());
const pipeline = new Pipeline({
  db,
  log,
  clock: systemClock,
  observer: {
    ...silentObserver,
    leaseAcquired: () => process.stdout.write('lease\n'),
    leaseLost: () => process.stdout.write('lease-lost\n'),
    error: (_s, e) => process.stderr.write(`subscription error: ${String(e)}\n`),
  },
  batchSize: number('BATCH_SIZE', 10),
  pollIntervalMs: number('POLL_INTERVAL_MS', 50),
  leaseRetryMs: number('LEASE_RETRY_MS', 100),
}).register(probe);

process.on('SIGTERM', () => {
  void (async () => {
    await pipeline.stop();
    await db.close();
    process.exit(0);
  })();
});

await pipeline.start();
process.stdout.write(`ready ${hostname()}:${process.pid}\n`);
