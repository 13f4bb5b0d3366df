import { afterEach, expect, it } from 'vitest';
import { EventLog } from '../../src/store/index.js';
import { logTail, waitForCheckpoint } from '../support/pipeline-harness.js';
import { describeOnPostgres } from '../support/postgres-suite.js';
import { attemptRows, handledRows, leaseHolders, loggedEventIds } from '../support/probe-handled.js';
import { productEvent, unique } from '../support/store-fixtures.js';
import { waitFor } from '../support/waiting.js';
import { killAllWorkers, startedWorker } from '../support/worker-processes.js';

/**
 * A worker process killed with SIGKILL in the middle of a batch, then started again: the
 * handler's transaction carries the checkpoint, so the restarted worker goes on from the
 * last committed event. Nothing is skipped; the only event attempted twice is the one that
 * was in flight when the process died, and it is still handled (committed) once.
 */
const TOTAL = 40;
const BATCH = 10;

await describeOnPostgres('a pipeline worker killed mid-batch [postgres, child processes]', (database) => {
  afterEach(killAllWorkers);

  it('resumes after SIGKILL from the last committed event: every event handled, none skipped, none applied twice', async () => {
    const { db, url } = database();
    const log = new EventLog('reliability', () => new Date());
    const storeId = unique();
    for (let t = 0; t < TOTAL / 5; t++) {
      const productId = unique();
      await db.transaction((tx) => log.append(tx, Array.from({ length: 5 }, (_, i) => productEvent({ productId, version: i + 1, storeId }))));
    }
    const env = { DATABASE_URL: url!, PROBE_DELAY_MS: '40', BATCH_SIZE: String(BATCH), POLL_INTERVAL_MS: '50' };

    const first = await startedWorker(env);
    // Kill it once at least one batch is committed and the next is under way: some of its
    // events attempted (probe_attempts is written outside the batch's transaction), none committed.
    await waitFor('the first worker to be in the middle of a batch', async () => {
      const handledNow = (await handledRows(db)).length;
      const attempted = (await attemptRows(db)).length;
      return handledNow >= BATCH && attempted > handledNow;
    });
    await first.kill('SIGKILL');
    // Its database session is gone too (whatever it was committing is decided) once the lease is free.
    await waitFor('the killed worker to release its lease', async () => (await leaseHolders(db)) === 0);
    const beforeCrash = await handledRows(db);
    expect(beforeCrash.length).toBeLessThan(TOTAL);
    expect(new Set(beforeCrash.map((r) => r.pid))).toEqual(new Set([first.pid]));

    const second = await startedWorker(env);
    await waitForCheckpoint(db, 'probe', await logTail(db), 60_000);

    const handled = await handledRows(db);
    const logged = await loggedEventIds(db);
    expect(logged).toHaveLength(TOTAL);
    // Every event once, in log order; the first worker's share is a prefix, the rest the second's.
    expect(handled.map((r) => r.event_id)).toEqual(logged);
    expect(handled.slice(0, beforeCrash.length)).toEqual(beforeCrash);
    expect(new Set(handled.slice(beforeCrash.length).map((r) => r.pid))).toEqual(new Set([second.pid]));

    // At-least-once attempts: only events of the batch in flight at the kill were attempted
    // twice, by the first worker (rolled back with its batch) and then by the second (committed).
    const attempts = await attemptRows(db);
    const counts = new Map<string, number>();
    for (const a of attempts) counts.set(a.event_id, (counts.get(a.event_id) ?? 0) + 1);
    const repeated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    expect(repeated.length).toBeGreaterThan(0);
    expect(repeated.length).toBeLessThanOrEqual(BATCH);
    const inFlightBatch = logged.slice(beforeCrash.length, beforeCrash.length + BATCH);
    for (const id of repeated) {
      expect(inFlightBatch).toContain(id);
      expect(attempts.filter((a) => a.event_id === id).map((a) => a.pid)).toEqual([first.pid, second.pid]);
      expect(handled.find((r) => r.event_id === id)?.pid).toBe(second.pid);
    }
  });
});
