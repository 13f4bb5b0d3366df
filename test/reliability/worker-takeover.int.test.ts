import { afterEach, expect, it } from 'vitest';
import { subscriptionSql } from '../../src/pipeline/index.js';
import { EventLog } from '../../src/store/index.js';
import { logTail, waitForCheckpoint } from '../support/pipeline-harness.js';
import { describeOnPostgres } from '../support/postgres-suite.js';
import { attemptRows, handledRows, leaseHolders, loggedEventIds } from '../support/probe-handled.js';
import { productEvent, unique } from '../support/store-fixtures.js';
import { waitFor } from '../support/waiting.js';
import { killAllWorkers, startedWorker, type WorkerProcess } from '../support/worker-processes.js';

/**
 * Two worker processes on one subscription: the lease (a PostgreSQL advisory lock on the
 * holder's connection) lets exactly one of them handle events; the other stands by and
 * takes over when the holder is SIGKILLed, carrying on from the last committed event.
 */
const TOTAL = 60;

await describeOnPostgres('two pipeline workers on one subscription [postgres, child processes]', (database) => {
  afterEach(killAllWorkers);

  it('lets one worker at a time handle events, and the other take over when the holder is killed', async () => {
    const { db, url } = database();
    const log = new EventLog('reliability', () => new Date());
    const storeId = unique();
    for (let t = 0; t < TOTAL / 6; t++) {
      const productId = unique();
      await db.transaction((tx) => log.append(tx, Array.from({ length: 6 }, (_, i) => productEvent({ productId, version: i + 1, storeId }))));
    }
    const env = { DATABASE_URL: url!, PROBE_DELAY_MS: '25', BATCH_SIZE: '10', POLL_INTERVAL_MS: '50', LEASE_RETRY_MS: '100' };

    const workers = await Promise.all([startedWorker(env), startedWorker(env)]);
    const holder = await waitFor('one worker to take the lease', () => workers.find((w) => w.lines.includes('lease')));
    const standby = workers.find((w) => w !== holder)!;
    await waitFor('the holder to be part way through', async () => {
      const n = (await handledRows(db)).length;
      return n >= 10 && n < TOTAL;
    });
    expect(await leaseHolders(db)).toBe(1);
    expect((await subscriptionSql.load(db, 'probe'))?.holder).toBe(holder.holderId);
    expect(standby.lines).not.toContain('lease');
    expect((await attemptRows(db)).filter((a) => a.pid === standby.pid)).toEqual([]);

    await holder.kill('SIGKILL');
    await standby.waitForLine('lease');
    await waitForCheckpoint(db, 'probe', await logTail(db), 60_000);

    expect(await leaseHolders(db)).toBe(1);
    expect((await subscriptionSql.load(db, 'probe'))?.holder).toBe(standby.holderId);
    const handled = await handledRows(db);
    expect(handled.map((r) => r.event_id)).toEqual(await loggedEventIds(db));
    expectOneHandOver(handled, holder, standby);
    // Attempts (written outside the handler's transaction) never interleave either: the
    // standby made none until the holder's last one was over.
    const attempts = await attemptRows(db);
    const lastByHolder = Math.max(...attempts.filter((a) => a.pid === holder.pid).map((a) => a.attempted_at.getTime()));
    const firstByStandby = Math.min(...attempts.filter((a) => a.pid === standby.pid).map((a) => a.attempted_at.getTime()));
    expect(lastByHolder).toBeLessThanOrEqual(firstByStandby);
    expect(attempts.map((a) => a.pid)).toEqual([...attempts.filter((a) => a.pid === holder.pid), ...attempts.filter((a) => a.pid === standby.pid)].map((a) => a.pid));
  });
});

/** Handled rows are the holder's run, then the standby's: one hand-over, no interleaving in time. */
function expectOneHandOver(handled: { pid: number; handled_at: Date }[], holder: WorkerProcess, standby: WorkerProcess) {
  const switchAt = handled.findIndex((r) => r.pid !== holder.pid);
  expect(switchAt).toBeGreaterThan(0);
  expect(handled.slice(0, switchAt).every((r) => r.pid === holder.pid)).toBe(true);
  expect(handled.slice(switchAt).every((r) => r.pid === standby.pid)).toBe(true);
  expect(handled[switchAt - 1]!.handled_at.getTime()).toBeLessThanOrEqual(handled[switchAt]!.handled_at.getTime());
}
