import pg from 'pg';
import { beforeAll, expect, it } from 'vitest';
import { START } from '../../src/events/index.js';
import { EventLog, MAX_READ_LIMIT, PG, pgErrorCode, type Database } from '../../src/store/index.js';
import { describeEachAdapter } from '../support/databases.js';
import {
  byTransactionThenPosition,
  checkpointOf,
  clientSql,
  expectAppError,
  expectSqlState,
  productEvent,
  readAll,
  settleLog,
  T0,
  tailCheckpoint,
  unique,
} from '../support/store-fixtures.js';

/**
 * The event log contract (src/store/event-log.ts, DESIGN.md §3 "gap-safe reading"): appends
 * are validated and transactional, (stream, stream_version) is unique, and readers see
 * events in (transaction id, position) order, resuming from a checkpoint without skipping
 * an event that committed late.
 */
await describeEachAdapter('event log', ({ adapter, db: getDb, url }) => {
  let db: Database;
  const log = new EventLog('storeflow-contract', () => T0);

  beforeAll(() => {
    db = getDb();
  });

  const countStream = async (stream: string) =>
    Number((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE stream = $1', [stream]))[0]?.n);

  it('refuses a payload that does not match the catalogue and stores nothing of that transaction', async () => {
    const productId = unique();
    const good = productEvent({ productId, version: 1, storeId: unique() });
    const badPayload = { ...good, stream_version: 2, payload: { ...(good.payload as object), price_minor: -5 } };

    const err = await expectAppError(db.transaction((tx) => log.append(tx, [good, badPayload])), 'EVENT_SCHEMA_INVALID');
    expect(err.details).toMatchObject({ name: 'ProductUpdated', version: 1 });
    expect(await countStream(good.stream)).toBe(0);
  });

  it('refuses unknown event names and versions the catalogue does not hold', async () => {
    const good = productEvent({ productId: unique(), version: 1, storeId: unique() });
    await expectAppError(db.transaction((tx) => log.append(tx, [{ ...good, name: 'OrderTeleported' }])), 'EVENT_SCHEMA_INVALID');
    await expectAppError(db.transaction((tx) => log.append(tx, [{ ...good, version: 99 }])), 'EVENT_SCHEMA_INVALID');
    expect(await countStream(good.stream)).toBe(0);
  });

  it('stores a valid event with its envelope, metadata and a checkpoint of transaction and position', async () => {
    const storeId = unique();
    const event = productEvent({ productId: unique(), version: 1, storeId, merchantId: 7 });
    const [stored] = await db.transaction((tx) => log.append(tx, [event]));

    expect(stored).toMatchObject({
      name: 'ProductUpdated',
      version: 1,
      stream: event.stream,
      stream_version: 1,
      source: 'storeflow-contract',
      payload: event.payload,
      metadata: event.metadata,
    });
    expect(stored!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(stored!.checkpoint).toBe(`${stored!.transaction_id}.${stored!.position}`);
    const [row] = await db.query<{ store_id: number; merchant_id: number }>(
      'SELECT store_id, merchant_id FROM events WHERE id = $1',
      [stored!.id],
    );
    expect(row).toEqual({ store_id: storeId, merchant_id: 7 });
  });

  it('rejects a duplicate (stream, stream_version) and rolls the whole transaction back', async () => {
    const productId = unique();
    const storeId = unique();
    await db.transaction((tx) => log.append(tx, [productEvent({ productId, version: 1, storeId })]));

    await expectSqlState(
      db.transaction(async (tx) => {
        await log.lockForAppend(tx);
        await tx.query(
          `INSERT INTO audit_log (merchant_id, entity, entity_id, action) VALUES (1, 'product', $1, 'duplicate_probe')`,
          [String(productId)],
        );
        await log.append(tx, [productEvent({ productId, version: 2, storeId })]);
        await log.append(tx, [productEvent({ productId, version: 1, storeId, name: 'second writer' })]);
      }),
      PG.uniqueViolation,
    );

    const events = await log.readStream(db, `product-${productId}`);
    expect(events.map((e) => [e.stream_version, (e.payload as { name: string }).name])).toEqual([[1, `Product ${productId}`]]);
    const audit = await db.query("SELECT 1 FROM audit_log WHERE action = 'duplicate_probe' AND entity_id = $1", [String(productId)]);
    expect(audit).toHaveLength(0);
  });

  it('reads the events after a checkpoint in (transaction id, position) order', async () => {
    const from = await tailCheckpoint(db);
    const storeId = unique();
    const streams = [unique(), unique(), unique()];
    for (const [i, productId] of streams.entries()) {
      await db.transaction((tx) =>
        log.append(tx, [1, 2].map((version) => productEvent({ productId, version, storeId, name: `t${i}v${version}` }))),
      );
    }
    await settleLog(db);

    const events = await log.readAfter(db, from, { storeId });

    expect(events.map((e) => (e.payload as { name: string }).name)).toEqual(['t0v1', 't0v2', 't1v1', 't1v2', 't2v1', 't2v2']);
    expect([...events].sort(byTransactionThenPosition)).toEqual(events);
    const firstCheckpoint = checkpointOf(events[0]!);
    expect(firstCheckpoint.transactionId > from.transactionId || firstCheckpoint.position > from.position).toBe(true);
    // Strictly after: resuming from the third event returns only the three after it.
    const rest = await log.readAfter(db, checkpointOf(events[2]!), { storeId });
    expect(rest.map((e) => e.id)).toEqual(events.slice(3).map((e) => e.id));
  });

  it('honours the limit, and clamps it to between 1 and the maximum', async () => {
    const from = await tailCheckpoint(db);
    const storeId = unique();
    const productId = unique();
    await db.transaction((tx) =>
      log.append(tx, [1, 2, 3, 4, 5].map((version) => productEvent({ productId, version, storeId }))),
    );
    await settleLog(db);

    const all = await log.readAfter(db, from, { storeId });
    expect(all.map((e) => e.stream_version)).toEqual([1, 2, 3, 4, 5]);
    expect((await log.readAfter(db, from, { storeId, limit: 2 })).map((e) => e.id)).toEqual(all.slice(0, 2).map((e) => e.id));
    expect(await log.readAfter(db, from, { storeId, limit: 0 })).toHaveLength(1);
    expect(await log.readAfter(db, from, { storeId, limit: -3 })).toHaveLength(1);
    expect(await log.readAfter(db, from, { storeId, limit: MAX_READ_LIMIT * 10 })).toHaveLength(5);
  });

  it('filters by store, by stream and by event names', async () => {
    const from = await tailCheckpoint(db);
    const [storeA, storeB] = [unique(), unique()];
    const [p1, p2] = [unique(), unique()];
    await db.transaction((tx) =>
      log.append(tx, [
        productEvent({ productId: p1, version: 1, storeId: storeA }),
        productEvent({ productId: p2, version: 1, storeId: storeB }),
        productEvent({ productId: p1, version: 2, storeId: storeA }),
      ]),
    );
    await settleLog(db);

    const ofStoreA = await log.readAfter(db, from, { storeId: storeA });
    expect(ofStoreA.map((e) => [e.stream, e.stream_version])).toEqual([[`product-${p1}`, 1], [`product-${p1}`, 2]]);
    const ofStream = await log.readAfter(db, from, { stream: `product-${p2}` });
    expect(ofStream.map((e) => e.metadata.store_id)).toEqual([storeB]);
    expect(await log.readAfter(db, from, { storeId: storeB, stream: `product-${p1}` })).toEqual([]);

    const named = await log.readAfter(db, from, { names: ['ProductUpdated'] });
    expect(named.map((e) => e.stream)).toEqual([`product-${p1}`, `product-${p2}`, `product-${p1}`]);
    expect(await log.readAfter(db, from, { names: ['OrderCreated', 'OrderStatusUpdated'] })).toEqual([]);
    expect(await log.readAfter(db, from, { names: [] })).toEqual([]);
  });

  it('resumes exactly from checkpoints: reading page by page yields every event once, in order', async () => {
    const from = await tailCheckpoint(db);
    const storeId = unique();
    for (let t = 0; t < 7; t++) {
      const productId = unique();
      await db.transaction((tx) =>
        log.append(tx, Array.from({ length: (t % 3) + 1 }, (_, i) => productEvent({ productId, version: i + 1, storeId }))),
      );
    }
    await settleLog(db);
    const inOnePage = await log.readAfter(db, from, { storeId, limit: MAX_READ_LIMIT });
    expect(inOnePage).toHaveLength(1 + 2 + 3 + 1 + 2 + 3 + 1);

    for (const limit of [1, 2, 3, 5]) {
      const paged = await readAll(log, db, from, { storeId, limit });
      expect(paged.events.map((e) => e.id)).toEqual(inOnePage.map((e) => e.id));
      expect(new Set(paged.events.map((e) => e.position)).size).toBe(inOnePage.length);
      expect(paged.pages).toBe(Math.ceil(inOnePage.length / limit));
      expect(paged.last).toEqual(checkpointOf(inOnePage[inOnePage.length - 1]!));
    }
  });

  it('reads one stream in stream order', async () => {
    const productId = unique();
    const storeId = unique();
    await db.transaction((tx) => log.append(tx, [productEvent({ productId, version: 1, storeId })]));
    await db.transaction((tx) => log.append(tx, [productEvent({ productId, version: 2, storeId })]));
    expect((await log.readStream(db, `product-${productId}`)).map((e) => e.stream_version)).toEqual([1, 2]);
    expect(await log.readStream(db, 'product-does-not-exist')).toEqual([]);
  });

  /*
   * Gap safety needs two connections at once, so it runs on PostgreSQL only (PGlite has one).
   * A takes a transaction id and a position first but commits last; B commits in between.
   * A reader going by position alone would see B, move its checkpoint past A's position and
   * skip A for ever.
   */
  it.runIf(adapter === 'postgres')('never shows an event past an older transaction still in flight, and loses none of them', async () => {
    const storeId = unique();
    const before = productEvent({ productId: unique(), version: 1, storeId });
    await db.transaction((tx) => log.append(tx, [before]));
    await settleLog(db);
    const [seen] = await log.readAfter(db, START, { storeId });
    expect(seen?.stream).toBe(before.stream);
    const checkpoint = checkpointOf(seen!);

    const a = new pg.Client({ connectionString: url()! });
    await a.connect();
    try {
      await a.query('BEGIN');
      const [inA] = await log.append(clientSql(a), [productEvent({ productId: unique(), version: 1, storeId })]);
      const [inB] = await db.transaction((tx) => log.append(tx, [productEvent({ productId: unique(), version: 1, storeId })]));
      expect(inB!.position).toBeGreaterThan(inA!.position);
      expect(BigInt(inB!.transaction_id)).toBeGreaterThan(BigInt(inA!.transaction_id));

      // B is committed and visible to plain SQL, but the gap-safe reader holds it back.
      expect(await countStream(inB!.stream)).toBe(1);
      expect(await log.readAfter(db, checkpoint, { storeId })).toEqual([]);
      expect(await log.readAfter(db, checkpoint)).toEqual([]);

      await a.query('COMMIT');
      await settleLog(db);
      const resumed = await readAll(log, db, checkpoint, { storeId, limit: 1 });
      expect(resumed.events.map((e) => e.id)).toEqual([inA!.id, inB!.id]);
    } finally {
      await a.query('ROLLBACK').catch(() => {});
      await a.end();
    }
  });

  /*
   * The horizon waits only for transactions that may still append events (ADR 0011). One
   * that holds a transaction id without the append lock never will, wherever it runs.
   */
  const openWith = async (database: 'own' | 'postgres', ...statements: string[]) => {
    const target = new URL(url()!);
    if (database === 'postgres') target.pathname = '/postgres';
    const client = new pg.Client({ connectionString: target.toString() });
    await client.connect();
    await client.query('BEGIN');
    for (const statement of statements) await client.query(statement);
    return client;
  };

  for (const [where, database] of [['in this database', 'own'], ['in another database of the cluster', 'postgres']] as const) {
    it.runIf(adapter === 'postgres')(`does not hold readers back for an open transaction ${where} that cannot append events`, async () => {
      const from = await tailCheckpoint(db);
      const storeId = unique();
      const bystander = await openWith(database, 'SELECT pg_current_xact_id()');
      try {
        const [later] = await db.transaction((tx) => log.append(tx, [productEvent({ productId: unique(), version: 1, storeId })]));
        const ahead = await db.query<{ ahead: boolean }>(
          'SELECT pg_snapshot_xmin(pg_current_snapshot()) <= $1::xid8 AS ahead',
          [later!.transaction_id],
        );
        expect(ahead[0]?.ahead).toBe(true); // the plain snapshot xmin would hold it back
        expect((await log.readAfter(db, from, { storeId })).map((e) => e.id)).toEqual([later!.id]);
      } finally {
        await bystander.query('ROLLBACK');
        await bystander.end();
      }
    });
  }

  it.runIf(adapter === 'postgres')('holds readers back for an open transaction that locked the log for appending, before it appends', async () => {
    const from = await tailCheckpoint(db);
    const storeId = unique();
    const writer = await openWith('own', 'SELECT events_lock_for_append()', 'SELECT pg_current_xact_id()');
    try {
      const [later] = await db.transaction((tx) => log.append(tx, [productEvent({ productId: unique(), version: 1, storeId })]));
      expect(await log.readAfter(db, from, { storeId })).toEqual([]);
      const [first] = await log.append(clientSql(writer), [productEvent({ productId: unique(), version: 1, storeId })]);
      await writer.query('COMMIT');
      await settleLog(db);
      expect((await log.readAfter(db, from, { storeId })).map((e) => e.id)).toEqual([first!.id, later!.id]);
    } finally {
      await writer.query('ROLLBACK').catch(() => {});
      await writer.end();
    }
  });

  /*
   * A writer that is committing lets go of its `events` lock before its transaction id lock.
   * A horizon that read pg_locks at that moment and took it for a bystander would pass over
   * its events, committed but not yet visible to the reader: skipped for ever. Writers and
   * readers race for a few seconds; every read checks that no transaction in flight at its
   * snapshot that did append events lies below its horizon.
   */
  it.runIf(adapter === 'postgres')('never passes over a writer that is committing (writers and readers racing)', async () => {
    const storeId = unique();
    const clients = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const c = new pg.Client({ connectionString: url()! });
        await c.connect();
        return c;
      }),
    );
    const [writers, readers] = [clients.slice(0, 4), clients.slice(4)];
    const until = Date.now() + 3_000;
    const reads: { horizon: bigint; inFlight: bigint[] }[] = [];
    try {
      await Promise.all([
        ...writers.map(async (w) => {
          while (Date.now() < until) {
            await w.query('BEGIN');
            await log.lockForAppend(clientSql(w));
            await log.append(clientSql(w), [productEvent({ productId: unique(), version: 1, storeId })]);
            await w.query('COMMIT');
          }
        }),
        ...readers.map(async (r) => {
          while (Date.now() < until) {
            const { rows } = await r.query<{ h: string; xip: string[] }>(
              'SELECT (SELECT events_horizon())::text AS h, ARRAY(SELECT pg_snapshot_xip(pg_current_snapshot()))::text[] AS xip',
            );
            reads.push({ horizon: BigInt(rows[0]!.h), inFlight: rows[0]!.xip.map(BigInt) });
          }
        }),
      ]);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
    const appended = new Set(
      (await db.query<{ x: string }>('SELECT transaction_id::text AS x FROM events WHERE store_id = $1', [storeId])).map((r) => r.x),
    );
    const passedOver = reads.filter((r) => r.inFlight.some((x) => x < r.horizon && appended.has(x.toString())));
    expect(reads.length).toBeGreaterThan(100);
    expect(appended.size).toBeGreaterThan(100);
    expect(passedOver).toEqual([]);
  });

  it('refuses to append after another write unless the log was locked for appending first, and keeps nothing of it', async () => {
    const storeId = unique();
    const late = productEvent({ productId: unique(), version: 1, storeId });
    const err = await db
      .transaction(async (tx) => {
        await tx.query('SELECT pg_current_xact_id()');
        await log.append(tx, [late]);
      })
      .catch((e: unknown) => e);
    expect(pgErrorCode(err), String(err)).toBe(PG.appendNotLocked);
    const tooLate = await db
      .transaction(async (tx) => {
        await tx.query('SELECT pg_current_xact_id()');
        await log.lockForAppend(tx);
      })
      .catch((e: unknown) => e);
    expect(pgErrorCode(tooLate), String(tooLate)).toBe(PG.appendNotLocked);
    expect(await countStream(late.stream)).toBe(0);

    const [stored] = await db.transaction(async (tx) => {
      await log.lockForAppend(tx);
      await tx.query('SELECT pg_current_xact_id()');
      return log.append(tx, [late]);
    });
    expect(stored?.stream).toBe(late.stream);
  });

  it.runIf(adapter === 'postgres')('commits a subscription lease asynchronously, but a transaction on it that appends events synchronously', async () => {
    const lease = await db.tryLease(`event-log-durability-${unique()}`);
    expect(lease).not.toBeNull();
    const setting = async (sql: { query: Database['query'] }) =>
      (await sql.query<{ s: string }>('SELECT current_setting($1) AS s', ['synchronous_commit']))[0]?.s;
    try {
      expect(await setting(lease!)).toBe('off');
      const inside = await lease!.transaction(async (tx) => {
        const before = await setting(tx);
        await log.lockForAppend(tx);
        return [before, await setting(tx)];
      });
      expect(inside).toEqual(['off', 'on']);
      const firstWrite = await lease!.transaction(async (tx) => {
        await log.append(tx, [productEvent({ productId: unique(), version: 1, storeId: unique() })]);
        return setting(tx);
      });
      expect(firstWrite).toBe('on');
      expect(await setting(lease!)).toBe('off');
      expect(await setting(db)).toBe('on');
    } finally {
      await lease!.release();
    }
  });

  it.runIf(adapter === 'postgres')('orders interleaved transactions by transaction id, not by position', async () => {
    const from = await tailCheckpoint(db);
    const storeId = unique();
    const [pa, pb] = [unique(), unique()];
    const a = new pg.Client({ connectionString: url()! });
    await a.connect();
    try {
      await a.query('BEGIN');
      const [a1] = await log.append(clientSql(a), [productEvent({ productId: pa, version: 1, storeId })]);
      const [b1] = await db.transaction((tx) => log.append(tx, [productEvent({ productId: pb, version: 1, storeId })]));
      const [a2] = await log.append(clientSql(a), [productEvent({ productId: pa, version: 2, storeId })]);
      await a.query('COMMIT');
      expect([a1!.position < b1!.position, b1!.position < a2!.position]).toEqual([true, true]);
      await settleLog(db);

      const events = await log.readAfter(db, from, { storeId });
      expect(events.map((e) => e.id)).toEqual([a1!.id, a2!.id, b1!.id]);
    } finally {
      await a.query('ROLLBACK').catch(() => {});
      await a.end();
    }
  });
});
