import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { beforeAll, expect, it } from 'vitest';
import { parseCheckpoint } from '../../src/events/index.js';
import { deadLetterSql, replaySql } from '../../src/pipeline/index.js';
import type { Database } from '../../src/store/index.js';
import { describeEachAdapter } from '../support/databases.js';
import {
  FAST_PIPELINE,
  checkpointNow,
  idsOf,
  notificationEvent,
  pipelineSuite,
  startPipeline,
  waitForCheckpoint,
} from '../support/pipeline-harness.js';
import { ProbeSubscriber, createProbeTable, deliveries } from '../support/pipeline-probe.js';
import { productEvent, unique } from '../support/store-fixtures.js';
import { waitFor, within } from '../support/waiting.js';

/**
 * The event pipeline contract (src/pipeline, ADR 0006), operator side: dead-letter retries
 * and discards, range replays, resets and pauses are written to the database by any node
 * and carried out by the subscription's lease holder, between batches; a checkpoint moved
 * under a running handler makes the runner re-read, never lose events.
 */
await describeEachAdapter('event pipeline operations', ({ adapter, db: getDb, url }) => {
  let db: Database;
  const { appendClock, log, freshSubscription, appendEach, products, admin } = pipelineSuite(() => db);
  const HOUR = 3_600_000;

  beforeAll(async () => {
    db = getDb();
    await createProbeTable(db);
  });

  it('carries out an operator retry of dead letters: a healed one is marked retried, a still failing one is parked again', async () => {
    const name = await freshSubscription('operator-retry');
    const probe = new ProbeSubscriber(name, { retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 } });
    const [a, healed, stubborn, d] = await appendEach(products(4));
    probe.poison(healed!.id);
    probe.poison(stubborn!.id);
    const { pipeline } = await startPipeline(db, log, [probe]);
    await waitForCheckpoint(db, name, d!.checkpoint);
    const parked = await deadLetterSql.list(db, { subscription: name, status: 'parked', limit: 10 });
    const letterOf = (eventId: string) => parked.find((l) => l.event_id === eventId)!;
    expect(parked.map((l) => l.event_id).sort()).toEqual([healed!.id, stubborn!.id].sort());

    probe.heal(healed!.id);
    const requested = await deadLetterSql.requestRetry(db, [letterOf(healed!.id).id, letterOf(stubborn!.id).id]);
    expect(requested.sort()).toEqual([letterOf(healed!.id).id, letterOf(stubborn!.id).id].sort());
    pipeline.wakeup.notify();

    const retried = await waitFor('the healed dead letter to be retried', async () => {
      const l = await deadLetterSql.get(db, letterOf(healed!.id).id);
      return l?.status === 'retried' ? l : null;
    });
    expect(retried.resolved_at).toBeInstanceOf(Date);
    const again = await waitFor('the failing dead letter to be parked again', async () => {
      const l = await deadLetterSql.get(db, letterOf(stubborn!.id).id);
      return l?.status === 'parked' && l.attempts === 3 ? l : null;
    });
    expect(again.last_failed_at.getTime()).toBeGreaterThanOrEqual(letterOf(stubborn!.id).last_failed_at.getTime());
    // The retry is delivered once, after the live events; the checkpoint stays where it was.
    expect(idsOf(await deliveries(db, name))).toEqual(idsOf([a!, d!, healed!]));
    expect(await checkpointNow(db, name)).toBe(d!.checkpoint);
  });

  it('discards a dead letter with a reason, after which it is neither retried nor delivered', async () => {
    const name = await freshSubscription('discarding');
    const probe = new ProbeSubscriber(name, { retry: { maxAttempts: 1, baseDelayMs: 5, maxDelayMs: 10 } });
    const [poison, b] = await appendEach(products(2));
    probe.poison(poison!.id);
    const { pipeline } = await startPipeline(db, log, [probe]);
    await waitForCheckpoint(db, name, b!.checkpoint);
    const [letter] = await deadLetterSql.list(db, { subscription: name, limit: 10 });
    expect(letter?.attempts).toBe(1);

    const discarded = await deadLetterSql.discard(db, letter!.id, 4242, 'refund handled by hand');
    expect(discarded).toMatchObject({ id: letter!.id, status: 'discarded', resolved_by: 4242, resolution_reason: 'refund handled by hand' });
    expect(discarded!.resolved_at).toBeInstanceOf(Date);
    expect(await deadLetterSql.discard(db, letter!.id, 4242, 'twice')).toBeNull();
    expect(await deadLetterSql.requestRetry(db, [letter!.id])).toEqual([]);

    probe.heal(poison!.id);
    const [later] = await appendEach(products(1));
    pipeline.wakeup.notify();
    await waitForCheckpoint(db, name, later!.checkpoint);
    expect(idsOf(await deliveries(db, name))).toEqual(idsOf([b!, later!]));
    expect((await deadLetterSql.get(db, letter!.id))?.status).toBe('discarded');
    expect((await deadLetterSql.countParked(db)).get(name)).toBeUndefined();
  });

  it('runs a replay of a filtered range (names, stream, time window) for the named subscription only, to done = total', async () => {
    const [nameA, nameB] = [await freshSubscription('replayed'), await freshSubscription('bystander')];
    const [probeA, probeB] = [new ProbeSubscriber(nameA), new ProbeSubscriber(nameB)];
    await startPipeline(db, log, [probeA, probeB]);
    const storeId = unique();
    const [x, y] = [unique(), unique()];
    const notes = `probe-notes-${unique()}`;

    appendClock.advance(HOUR);
    await appendEach([productEvent({ productId: x, version: 1, storeId }), productEvent({ productId: y, version: 1, storeId }), notificationEvent({ stream: notes, version: 1 })]);
    appendClock.advance(HOUR);
    const from = appendClock.now();
    const inWindow = await appendEach([
      productEvent({ productId: x, version: 2, storeId }),
      notificationEvent({ stream: notes, version: 2 }),
      productEvent({ productId: y, version: 2, storeId }),
      productEvent({ productId: x, version: 3, storeId }),
    ]);
    appendClock.advance(HOUR);
    const until = appendClock.now();
    const [tail] = await appendEach([productEvent({ productId: x, version: 4, storeId })]);
    await waitForCheckpoint(db, nameA, tail!.checkpoint);
    await waitForCheckpoint(db, nameB, tail!.checkpoint);
    const [seenA, seenB] = [await deliveries(db, nameA), await deliveries(db, nameB)];

    const job = await admin([probeA, probeB]).replay({ subscription: nameA, names: ['ProductUpdated'], stream: `product-${x}`, from, until });
    expect(job).toMatchObject({ subscription: nameA, total: 2, done: 0, status: 'pending' });
    const finished = await waitFor('the replay job to finish', async () => {
      const j = await replaySql.get(db, job.id);
      return j && j.status !== 'pending' && j.status !== 'running' ? j : null;
    });

    expect(finished).toMatchObject({ status: 'done', done: 2, total: 2, error: null });
    expect(finished.finished_at).toBeInstanceOf(Date);
    const replayed = (await deliveries(db, nameA)).slice(seenA.length);
    expect(idsOf(replayed)).toEqual(idsOf([inWindow[0]!, inWindow[3]!]));
    expect(await deliveries(db, nameB)).toEqual(seenB);
    expect(await checkpointNow(db, nameA)).toBe(tail!.checkpoint);
  });

  it('after a reset to a point in time, delivers again from the first event at or after that time', async () => {
    const name = await freshSubscription('rewound');
    const probe = new ProbeSubscriber(name);
    await startPipeline(db, log, [probe]);

    appendClock.advance(HOUR);
    const early = await appendEach(products(2));
    appendClock.advance(HOUR);
    const time = appendClock.now();
    const late = await appendEach(products(2));
    appendClock.advance(HOUR);
    const latest = await appendEach(products(1));
    await waitForCheckpoint(db, name, latest[0]!.checkpoint);
    expect(idsOf(await deliveries(db, name))).toEqual(idsOf([...early, ...late, ...latest]));

    const to = await admin([probe]).reset(name, { time });
    expect(to).toEqual({ transactionId: BigInt(late[0]!.transaction_id), position: late[0]!.position - 1 });

    await waitFor('the rewound events to be delivered again', async () => (await deliveries(db, name)).length === 8);
    await waitForCheckpoint(db, name, latest[0]!.checkpoint);
    expect(idsOf((await deliveries(db, name)).slice(5))).toEqual(idsOf([...late, ...latest]));
  });

  it('handles nothing for a paused subscription until it is resumed', async () => {
    const [paused, live] = [await freshSubscription('paused'), await freshSubscription('live')];
    const probes = [new ProbeSubscriber(paused), new ProbeSubscriber(live)];
    const operator = admin(probes);
    await operator.setPaused(paused, true);
    const start = await checkpointNow(db, paused);
    await startPipeline(db, log, probes);

    const events = await appendEach(products(3));
    // The live subscription in the same pipeline has caught up, so the paused one had its chances.
    await waitForCheckpoint(db, live, events.at(-1)!.checkpoint);
    expect(await deliveries(db, paused)).toEqual([]);
    expect(await checkpointNow(db, paused)).toBe(start);
    expect((await operator.status()).find((s) => s.name === paused)).toMatchObject({ state: 'paused', lag_events: 3 });

    await operator.setPaused(paused, false);
    await waitForCheckpoint(db, paused, events.at(-1)!.checkpoint);
    expect(idsOf(await deliveries(db, paused))).toEqual(idsOf(events));
  });

  it('when an operator resets the checkpoint while an event is being handled, re-reads from the new checkpoint and loses nothing', async () => {
    const name = await freshSubscription('reset-midway');
    const probe = new ProbeSubscriber(name);
    const [, e2, e3, e4, e5, e6] = await appendEach(products(6));
    const hold = probe.hold(e4!.id);
    await startPipeline(db, log, [probe]);
    await within(hold.entered, 'the handler to be inside e4');

    const resetting = admin([probe]).reset(name, { checkpoint: parseCheckpoint(e2!.checkpoint) });
    // PostgreSQL: the reset commits while e4's transaction is open, so e4's checkpoint
    // compare-and-set fails and its transaction rolls back. PGlite has one connection: the
    // reset waits for e4 to commit, and the next compare-and-set fails instead.
    if (adapter === 'postgres') await within(resetting, 'the reset to commit');
    hold.release();
    await within(resetting, 'the reset to commit');

    await waitForCheckpoint(db, name, e6!.checkpoint);
    await waitFor('e3..e6 to be delivered after the reset', async () => {
      const got = idsOf(await deliveries(db, name));
      return JSON.stringify(got.slice(-4)) === JSON.stringify(idsOf([e3!, e4!, e5!, e6!]));
    });
    // The runner handles e1..e6 as one batch; the reset makes that batch's checkpoint move fail,
    // so it rolls back whole and the runner resumes after e2 as the operator asked: e3..e6 are
    // delivered once each after the reset, and nothing after e2 is lost.
    const got = idsOf(await deliveries(db, name));
    expect(got.slice(-4)).toEqual(idsOf([e3!, e4!, e5!, e6!]));
  });

  it.skipIf(adapter !== 'postgres')(
    'does not finish a replay while events of its range wait behind an older open transaction',
    async () => {
      const name = await freshSubscription('replay-held');
      const probe = new ProbeSubscriber(name);
      const { pipeline } = await startPipeline(db, log, [probe]);
      // An open transaction that may append events and took its id first: every event below
      // commits after it started, so gap-safe readers (the live runner and the replay) must
      // wait for it.
      const blocker = new pg.Client({ connectionString: url()! });
      await blocker.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query('SELECT events_lock_for_append()');
        await blocker.query('SELECT pg_current_xact_id()');
        appendClock.advance(HOUR);
        const from = appendClock.now();
        const events = await appendEach(products(3));
        const job = await admin([probe]).replay({ subscription: name, from, until: new Date(from.getTime() + HOUR) });
        expect(job.total).toBe(3);
        pipeline.wakeup.notify();
        // Long enough for the runner to have looked at the job many times over.
        await sleep(FAST_PIPELINE.pollIntervalMs * 12);
        expect((await replaySql.get(db, job.id))?.status).toBe('pending');
        expect(await deliveries(db, name)).toEqual([]);

        await blocker.query('ROLLBACK');
        const finished = await waitFor('the replay to finish', async () => {
          const j = await replaySql.get(db, job.id);
          return j?.status === 'done' ? j : null;
        });
        expect(finished).toMatchObject({ done: 3, total: 3 });
        await waitForCheckpoint(db, name, events.at(-1)!.checkpoint);
        // Delivered live once and replayed once each.
        expect(idsOf(await deliveries(db, name)).sort()).toEqual([...idsOf(events), ...idsOf(events)].sort());
      } finally {
        await blocker.end();
      }
    },
  );
});
