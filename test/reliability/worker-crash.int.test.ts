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

  it('resumes after SIGKILL from the last committed event: every event handled, none skipped, none twice', async () => {
    const { db, url } = database();
    const log = new EventLog('reliability', () => new Date());
    const storeId = unique();
    for (let t = 0; t < TOTAL / 5; t++) {
      const productId = unique();
      await db.transaction((tx) => log.append(tx, Array.from({ length: 5 }, (_, i) => productEvent({ productId, version: i + 1, storeId }))));
    }
    const env = { DATABASE_URL: url!, PROBE_DELAY_MS: '40', BATCH_SIZE: String(BATCH), POLL_INTERVAL_MS: '50' };

    const first = await startedWorker(env);
    // Kill it once some, not all, events are handled and the current batch is under way.
    await waitFor('the first worker to be in the middle of a batch', async () => {
      const n = (await handledRows(db)).length;
      return n >= 3 && n % BATCH !== 0;
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

    // At-least-once attempts: only the event in flight at the kill was attempted twice, by
    // the first worker (rolled back) and then by the second (committed).
    const attempts = await attemptRows(db);
    const counts = new Map<string, number>();
    for (const a of attempts) counts.set(a.event_id, (counts.get(a.event_id) ?? 0) + 1);
    const repeated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    expect(repeated.length).toBeLessThanOrEqual(1);
    const inFlight = logged[beforeCrash.length]!;
    for (const id of repeated) {
      expect(id).toBe(inFlight);
      expect(attempts.filter((a) => a.event_id === id).map((a) => a.pid)).toEqual([first.pid, second.pid]);
    }
    expect(handled.find((r) => r.event_id === inFlight)?.pid).toBe(second.pid);
  });
});
