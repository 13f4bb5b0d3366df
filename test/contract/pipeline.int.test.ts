import { beforeAll, expect, it } from 'vitest';
import { parseCheckpoint } from '../../src/events/index.js';
import { deadLetterSql, handlerTransaction, subscriptionSql } from '../../src/pipeline/index.js';
import type { Database } from '../../src/store/index.js';
import { describeEachAdapter } from '../support/databases.js';
import { appendCommitted, checkpointNow, idsOf, notificationEvent, pipelineSuite, startPipeline, waitForCheckpoint } from '../support/pipeline-harness.js';
import { ProbeSubscriber, createProbeTable, deliveries, recordingObserver } from '../support/pipeline-probe.js';
import { leaseHolders } from '../support/probe-handled.js';
import { productEvent, readAll, settleLog, unique } from '../support/store-fixtures.js';
import { waitFor } from '../support/waiting.js';

/**
 * The event pipeline contract (src/pipeline, ADR 0006), delivery side: each subscription
 * gets every event it wants once, in log order, in a transaction that moves its checkpoint;
 * a failing event is retried with backoff and then parked while the rest goes on; and only
 * one process runs a subscription at a time. Operator requests: pipeline-operator.int.test.ts.
 */
await describeEachAdapter('event pipeline delivery', ({ adapter, db: getDb }) => {
  let db: Database;
  const { log, freshSubscription, appendEach, products } = pipelineSuite(() => db);

  beforeAll(async () => {
    db = getDb();
    await createProbeTable(db);
  });

  it('delivers every event once, in log order, so each stream is seen in stream order', async () => {
    const name = await freshSubscription('in-order');
    const from = parseCheckpoint((await checkpointNow(db, name))!);
    const probe = new ProbeSubscriber(name);
    await startPipeline(db, log, [probe]);

    const storeId = unique();
    const streams = Array.from({ length: 5 }, () => unique());
    for (let version = 1; version <= 4; version++) {
      // One transaction per stream and round, all at once: on PostgreSQL their commits race.
      await Promise.all(streams.map((productId) => appendCommitted(db, log, [productEvent({ productId, version, storeId })])));
    }
    await settleLog(db);
    const logged = (await readAll(log, db, from)).events;
    expect(logged).toHaveLength(streams.length * 4);
    await waitForCheckpoint(db, name, logged.at(-1)!.checkpoint);

    const got = await deliveries(db, name);
    expect(idsOf(got)).toEqual(idsOf(logged));
    for (const productId of streams) {
      expect(got.filter((d) => d.stream === `product-${productId}`).map((d) => d.stream_version)).toEqual([1, 2, 3, 4]);
    }
    const row = await subscriptionSql.load(db, name);
    expect(row).toMatchObject({ handled_count: logged.length, failure_count: 0, retry_event_id: null });
  });

  it('wakes readers after a handler transaction that appended, and only then', async () => {
    const lease = await db.tryLease(`wake-${unique()}`);
    if (!lease) throw new Error('no lease');
    let wakeUps = 0;
    const stop = log.onCommitted(() => (wakeUps += 1));
    try {
      // A notifier that decided there was nothing to say: the log is locked, nothing appended.
      const mayAppend = { name: 'may-append', appendsEvents: true, handle: async () => {} };
      await handlerTransaction(lease, log, mayAppend, async () => {});
      expect(wakeUps).toBe(0);

      const event = notificationEvent({ stream: `notification-${unique()}`, version: 1 });
      await handlerTransaction(lease, log, mayAppend, async (tx) => {
        await log.append(tx, [event]);
        expect(wakeUps).toBe(0); // not before it commits
      });
      expect(wakeUps).toBe(1);

      // Rolled back: nothing to read, nobody woken.
      await expect(
        handlerTransaction(lease, log, mayAppend, async (tx) => {
          await log.append(tx, [notificationEvent({ stream: `notification-${unique()}`, version: 1 })]);
          throw new Error('handler failed after appending');
        }),
      ).rejects.toThrow('handler failed after appending');
      expect(wakeUps).toBe(1);
    } finally {
      stop();
      await lease.release();
    }
  });

  it('skips events it does not want without calling the handler, and still moves its checkpoint past them', async () => {
    const name = await freshSubscription('skipping');
    const probe = new ProbeSubscriber(name, { eventNames: ['ProductUpdated'] });
    await startPipeline(db, log, [probe]);

    const stream = `probe-notes-${unique()}`;
    const [n1, wanted, n2, n3] = await appendEach([
      notificationEvent({ stream, version: 1 }),
      productEvent({ productId: unique(), version: 1, storeId: unique() }),
      notificationEvent({ stream, version: 2 }),
      notificationEvent({ stream, version: 3 }),
    ]);
    await waitForCheckpoint(db, name, n3!.checkpoint);

    expect(idsOf(await deliveries(db, name))).toEqual([wanted!.id]);
    expect(probe.attempts.map((a) => a.eventId)).toEqual([wanted!.id]);
    expect(probe.attempts.map((a) => a.eventId)).not.toContain(n1!.id);
    expect(probe.attempts.map((a) => a.eventId)).not.toContain(n2!.id);
    expect((await subscriptionSql.load(db, name))?.handled_count).toBe(1);
  });

  it('retries a failing event after a backoff and, once it succeeds, handles it and the rest exactly once', async () => {
    const name = await freshSubscription('retrying');
    const retry = { maxAttempts: 5, baseDelayMs: 40, maxDelayMs: 80 };
    const probe = new ProbeSubscriber(name, { retry });
    const [a, flaky, c] = await appendEach(products(3));
    probe.failTimes(flaky!.id, 2);
    const { observer, calls } = recordingObserver();
    await startPipeline(db, log, [probe], { observer });

    await waitForCheckpoint(db, name, c!.checkpoint);

    expect(idsOf(await deliveries(db, name))).toEqual(idsOf([a!, flaky!, c!]));
    const tries = probe.attemptsAt(flaky!.id);
    expect(tries).toHaveLength(3);
    // The retry is not attempted before its backoff is over (at least the base delay).
    for (let i = 1; i < tries.length; i++) expect(tries[i]! - tries[i - 1]!).toBeGreaterThanOrEqual(retry.baseDelayMs);
    expect(calls.failed).toEqual([
      { subscription: name, attempt: 1 },
      { subscription: name, attempt: 2 },
    ]);
    expect(await subscriptionSql.load(db, name)).toMatchObject({ handled_count: 3, failure_count: 2, retry_event_id: null, retry_attempts: 0 });
    expect(await deadLetterSql.list(db, { subscription: name, limit: 10 })).toEqual([]);
  });

  it('parks a poison event after its last attempt and goes on with the events after it', async () => {
    const name = await freshSubscription('poisoned');
    const probe = new ProbeSubscriber(name, { retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 } });
    const [a, poison, c, d] = await appendEach(products(4));
    probe.poison(poison!.id);
    const { observer, calls } = recordingObserver();
    await startPipeline(db, log, [probe], { observer });

    await waitForCheckpoint(db, name, d!.checkpoint);

    expect(idsOf(await deliveries(db, name))).toEqual(idsOf([a!, c!, d!]));
    expect(probe.attemptsAt(poison!.id)).toHaveLength(3);
    expect(calls.parked).toEqual([name]);
    const letters = await deadLetterSql.list(db, { subscription: name, limit: 10 });
    expect(letters).toHaveLength(1);
    const letter = letters[0]!;
    expect(letter).toMatchObject({
      subscription: name,
      event_id: poison!.id,
      event_position: poison!.position,
      event_name: 'ProductUpdated',
      stream: poison!.stream,
      store_id: poison!.metadata.store_id,
      attempts: 3,
      status: 'parked',
      resolved_at: null,
    });
    expect(letter.error).toContain(`probe refuses ProductUpdated ${poison!.id}`);
    expect(letter.first_failed_at.getTime()).toBeLessThanOrEqual(letter.last_failed_at.getTime());
    expect(await subscriptionSql.load(db, name)).toMatchObject({ handled_count: 3, failure_count: 3, retry_event_id: null });
    expect((await deadLetterSql.countParked(db)).get(name)).toBe(1);
  });

  it.skipIf(adapter !== 'postgres')(
    'runs a subscription in one of two pipelines at a time; when the holder stops, the other takes over',
    async () => {
      const name = await freshSubscription('leased');
      const [probeA, probeB] = [new ProbeSubscriber(name, { tag: 'A' }), new ProbeSubscriber(name, { tag: 'B' })];
      const [watchA, watchB] = [recordingObserver(), recordingObserver()];

      const a = await startPipeline(db, log, [probeA], { observer: watchA.observer });
      await waitFor('pipeline A to take the lease', () => watchA.calls.acquired.length === 1);
      await startPipeline(db, log, [probeB], { observer: watchB.observer });
      const first = await appendEach(products(8));
      await waitForCheckpoint(db, name, first.at(-1)!.checkpoint);

      expect(await leaseHolders(db, name)).toBe(1);
      expect(watchB.calls.acquired).toEqual([]);
      expect(probeB.attempts).toEqual([]);

      await a.stop();
      await waitFor('pipeline B to take over the lease', () => watchB.calls.acquired.length === 1);
      const second = await appendEach(products(4));
      await waitForCheckpoint(db, name, second.at(-1)!.checkpoint);

      expect(await leaseHolders(db, name)).toBe(1);
      const got = await deliveries(db, name);
      expect(idsOf(got)).toEqual(idsOf([...first, ...second]));
      expect(got.map((d) => d.tag)).toEqual([...first.map(() => 'A'), ...second.map(() => 'B')]);
    },
  );
});
