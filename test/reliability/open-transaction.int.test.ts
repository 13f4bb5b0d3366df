import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/events/index.js';
import { EventLog } from '../../src/store/index.js';
import { checkpointNow, logTail, waitForCheckpoint } from '../support/pipeline-harness.js';
import { describeOnPostgres } from '../support/postgres-suite.js';
import { handledRows, loggedEventIds } from '../support/probe-handled.js';
import { clientSql, productEvent, unique } from '../support/store-fixtures.js';
import { killAllWorkers, startedWorker } from '../support/worker-processes.js';

/**
 * Gap-safe delivery against a long-running transaction elsewhere (DESIGN.md §3): a
 * transaction that took its id first and appends events, held open while later
 * transactions commit events of their own. The worker must hold back everything after the
 * open transaction's id, deliver nothing out of order and skip nothing once it commits.
 */
const POLL_MS = 50;

await describeOnPostgres('a pipeline worker behind a long-running open transaction [postgres, child processes]', (database) => {
  let blocker: pg.Client | undefined;
  afterEach(async () => {
    await killAllWorkers();
    await blocker?.end().catch(() => {});
    blocker = undefined;
  });

  it('holds back events committed after an older open transaction, then handles all in (transaction, position) order', async () => {
    const { db, url } = database();
    const log = new EventLog('reliability', () => new Date());
    const storeId = unique();
    const append = async (productId: number, version: number) =>
      (await db.transaction((tx) => log.append(tx, [productEvent({ productId, version, storeId })])))[0]!;
    await startedWorker({ DATABASE_URL: url!, POLL_INTERVAL_MS: String(POLL_MS), BATCH_SIZE: '3' });

    const before: StoredEvent[] = [];
    for (let i = 0; i < 4; i++) before.push(await append(unique(), 1));
    await waitForCheckpoint(db, 'probe', before.at(-1)!.checkpoint);

    blocker = new pg.Client({ connectionString: url! });
    await blocker.connect();
    await blocker.query('BEGIN');
    // It takes its id before appending, so it locks the log for appending first (ADR 0011).
    await blocker.query('SELECT events_lock_for_append()');
    await blocker.query('SELECT pg_current_xact_id()');
    const blockerStream = unique();
    const [held1] = await log.append(clientSql(blocker), [productEvent({ productId: blockerStream, version: 1, storeId })]);
    const later: StoredEvent[] = [];
    for (let i = 0; i < 5; i++) later.push(await append(unique(), 1));

    // Many polls later the worker has handled none of them and its checkpoint has not moved.
    await sleep(POLL_MS * 20);
    expect((await handledRows(db)).map((r) => r.event_id)).toEqual(before.map((e) => e.id));
    expect(await checkpointNow(db, 'probe')).toBe(before.at(-1)!.checkpoint);

    // The open transaction appends once more (a position after all of `later`) and commits.
    const [held2] = await log.append(clientSql(blocker), [productEvent({ productId: blockerStream, version: 2, storeId })]);
    await blocker.query('COMMIT');
    await waitForCheckpoint(db, 'probe', await logTail(db), 30_000);

    const handled = (await handledRows(db)).map((r) => r.event_id);
    const expected = [...before, held1!, held2!, ...later].map((e) => e.id);
    expect(handled).toEqual(expected);
    expect(await loggedEventIds(db)).toEqual(expected);
    expect(held1!.position).toBeLessThan(later[0]!.position);
    expect(held2!.position).toBeGreaterThan(later.at(-1)!.position);
  });
});
