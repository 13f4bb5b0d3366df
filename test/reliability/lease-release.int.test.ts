import { afterEach, expect, it } from 'vitest';
import { subscriptionSql } from '../../src/pipeline/index.js';
import { EventLog } from '../../src/store/index.js';
import { logTail, waitForCheckpoint } from '../support/pipeline-harness.js';
import { describeOnPostgres } from '../support/postgres-suite.js';
import { handledRows, leaseHolders, loggedEventIds } from '../support/probe-handled.js';
import { productEvent, unique } from '../support/store-fixtures.js';
import { waitFor } from '../support/waiting.js';
import { killAllWorkers, startedWorker } from '../support/worker-processes.js';

/**
 * A worker stopped with SIGTERM finishes its batch, releases its lease and says so: the
 * standby takes the subscription at once, not at its next lease retry (here ten minutes
 * away, far past the test's bound), and carries on from the released checkpoint.
 */
await describeOnPostgres('a lease released on SIGTERM [postgres, child processes]', (database) => {
  afterEach(killAllWorkers);

  it('is taken over by the standby at once, and every event is handled exactly once', async () => {
    const { db, url } = database();
    const log = new EventLog('reliability', () => new Date());
    const storeId = unique();
    for (let t = 0; t < 10; t++) {
      const productId = unique();
      await db.transaction((tx) => log.append(tx, Array.from({ length: 5 }, (_, i) => productEvent({ productId, version: i + 1, storeId }))));
    }
    const env = { DATABASE_URL: url!, PROBE_DELAY_MS: '20', BATCH_SIZE: '5', POLL_INTERVAL_MS: '50' };
    const holder = await startedWorker({ ...env, LEASE_RETRY_MS: '100' });
    await holder.waitForLine('lease');
    const standby = await startedWorker({ ...env, LEASE_RETRY_MS: '600000' });
    await waitFor('the holder to be part way through', async () => (await handledRows(db)).length >= 10);
    expect(standby.lines).not.toContain('lease');

    await holder.kill('SIGTERM');
    expect(await holder.exited).toBe(0);
    await standby.waitForLine('lease', 1, 15_000);
    await waitForCheckpoint(db, 'probe', await logTail(db), 30_000);

    expect(await leaseHolders(db)).toBe(1);
    expect((await subscriptionSql.load(db, 'probe'))?.holder).toBe(standby.holderId);
    const handled = await handledRows(db);
    expect(handled.map((r) => r.event_id)).toEqual(await loggedEventIds(db));
    expect(new Set(handled.map((r) => r.pid))).toEqual(new Set([holder.pid, standby.pid]));
  });
});
