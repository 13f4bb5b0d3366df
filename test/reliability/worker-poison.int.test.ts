import { afterEach, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/events/index.js';
import { deadLetterSql, subscriptionSql } from '../../src/pipeline/index.js';
import { EventLog, type Database } from '../../src/store/index.js';
import { logTail, waitForCheckpoint } from '../support/pipeline-harness.js';
import { describeOnPostgres } from '../support/postgres-suite.js';
import { attemptRows, handledRows } from '../support/probe-handled.js';
import { productEvent, unique } from '../support/store-fixtures.js';
import { waitFor } from '../support/waiting.js';
import { killAllWorkers, startedWorker } from '../support/worker-processes.js';

/**
 * A poison event in a worker process: retried with backoff, parked after its last attempt,
 * and the events after it are handled. Retry state lives in the subscription row, so the
 * attempt count survives a crash of the worker between attempts.
 */
const MAX_ATTEMPTS = 3;

await describeOnPostgres('a pipeline worker meeting a poison event [postgres, child processes]', (database) => {
  afterEach(killAllWorkers);
  const log = new EventLog('reliability', () => new Date());

  async function appendTen(db: Database): Promise<StoredEvent[]> {
    const storeId = unique();
    const stored: StoredEvent[] = [];
    for (let i = 0; i < 10; i++) {
      stored.push(...(await db.transaction((tx) => log.append(tx, [productEvent({ productId: unique(), version: 1, storeId })]))));
    }
    return stored;
  }

  async function expectParkedAndPassed(db: Database, subscription: string, events: StoredEvent[], poison: StoredEvent) {
    await waitForCheckpoint(db, subscription, await logTail(db), 60_000);
    const handled = await handledRows(db, subscription);
    expect(handled.map((r) => r.event_id)).toEqual(events.filter((e) => e !== poison).map((e) => e.id));
    const letters = await deadLetterSql.list(db, { subscription, limit: 10 });
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ event_id: poison.id, event_position: poison.position, attempts: MAX_ATTEMPTS, status: 'parked' });
    expect(letters[0]!.error).toContain(`poison event ${poison.id}`);
    expect(letters[0]!.first_failed_at.getTime()).toBeLessThanOrEqual(letters[0]!.last_failed_at.getTime());
    expect((await attemptRows(db, subscription)).filter((a) => a.event_id === poison.id)).toHaveLength(MAX_ATTEMPTS);
    expect(await subscriptionSql.load(db, subscription)).toMatchObject({ retry_event_id: null, failure_count: MAX_ATTEMPTS });
  }

  it('parks the poison event after its last attempt and handles every event after it', async () => {
    const { db, url } = database();
    const subscription = `poisoned-${unique()}`;
    await subscriptionSql.ensure(db, subscription);
    await subscriptionSql.reset(db, subscription, await logTail(db));
    const events = await appendTen(db);
    const poison = events[4]!;

    await startedWorker({
      DATABASE_URL: url!, PROBE_SUBSCRIPTION: subscription, PROBE_POISON_IDS: poison.id,
      PROBE_MAX_ATTEMPTS: String(MAX_ATTEMPTS), PROBE_BASE_DELAY_MS: '20', BATCH_SIZE: '4',
    });

    await expectParkedAndPassed(db, subscription, events, poison);
  });

  it('keeps counting attempts across a crash of the worker between two attempts', async () => {
    const { db, url } = database();
    const subscription = `poisoned-crash-${unique()}`;
    await subscriptionSql.ensure(db, subscription);
    await subscriptionSql.reset(db, subscription, await logTail(db));
    const events = await appendTen(db);
    const poison = events[2]!;
    const env = {
      DATABASE_URL: url!, PROBE_SUBSCRIPTION: subscription, PROBE_POISON_IDS: poison.id,
      PROBE_MAX_ATTEMPTS: String(MAX_ATTEMPTS), PROBE_BASE_DELAY_MS: '400', BATCH_SIZE: '4',
    };

    const first = await startedWorker(env);
    await waitFor('the first failed attempt to be recorded', async () => (await subscriptionSql.load(db, subscription))?.retry_attempts === 1);
    await first.kill('SIGKILL');
    const second = await startedWorker(env);

    await expectParkedAndPassed(db, subscription, events, poison);
    const pids = (await attemptRows(db, subscription)).filter((a) => a.event_id === poison.id).map((a) => a.pid);
    expect(pids[0]).toBe(first.pid);
    expect(pids.at(-1)).toBe(second.pid);
  });
});
