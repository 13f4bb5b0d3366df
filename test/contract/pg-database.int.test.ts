import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgDatabase, Sql } from '../../src/store/index.js';
import { createPostgresDatabase, isCI, probePostgres, type TestDatabase } from '../support/databases.js';

/**
 * PgDatabase against a real PostgreSQL: prepared statements that survive a schema change,
 * and transactions that begin with their first statement.
 */
const unavailable = isCI ? null : await probePostgres();
if (unavailable) console.warn(`skipped: ${unavailable}`);

describe.skipIf(unavailable !== null)('PgDatabase on PostgreSQL', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createPostgresDatabase({ migrate: false });
    await t.db.exec('CREATE TABLE things (id int PRIMARY KEY, name text); INSERT INTO things VALUES (1, $$one$$)');
    await t.db.exec('CREATE TABLE marks (id int PRIMARY KEY)');
  });
  afterAll(() => t?.drop());

  // Parameterised statements are sent as named prepared statements. A migration that changes
  // a table's columns under a prepared `SELECT *` must not break later queries.

  it('answers the same query again after a column is added under its prepared plan', async () => {
    const db = t.db as PgDatabase;
    // Warm every pooled connection with the prepared statement.
    await Promise.all(Array.from({ length: 12 }, () => db.query('SELECT * FROM things WHERE id = $1', [1])));
    await db.exec('ALTER TABLE things ADD COLUMN colour text');
    const rows = await Promise.all(Array.from({ length: 12 }, () => db.query('SELECT * FROM things WHERE id = $1', [1])));
    for (const [row] of rows) expect(row).toEqual({ id: 1, name: 'one', colour: null });
  });

  it('recovers inside transactions too: the failing connection is dropped, the next one works', async () => {
    const db = t.db as PgDatabase;
    await Promise.all(Array.from({ length: 12 }, () => db.transaction((tx) => tx.query('SELECT * FROM things WHERE id = $1', [1]))));
    await db.exec('ALTER TABLE things ADD COLUMN size int');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, () => db.transaction((tx) => tx.query('SELECT * FROM things WHERE id = $1', [1]))),
    );
    // Some may fail once (stale plan); afterwards every connection answers.
    void outcomes;
    const after = await Promise.all(Array.from({ length: 12 }, () => db.transaction((tx) => tx.query('SELECT * FROM things WHERE id = $1', [1]))));
    for (const [row] of after) expect(row).toMatchObject({ id: 1, size: null });
  });

  // BEGIN waits for a transaction's first statement (pg-database.ts): work done before it
  // holds no transaction open, and a transaction that runs no statement costs no round trip.
  // Checked from another connection through pg_stat_activity.
  const backend = async (pid: number) => {
    const [row] = await t.db.query<{ state: string; query: string }>('SELECT state, query FROM pg_stat_activity WHERE pid = $1', [pid]);
    return row;
  };

  it('opens the transaction with its first statement, not before', async () => {
    const lease = await t.db.tryLease('lazy-begin');
    if (!lease) throw new Error('no lease');
    try {
      const [{ pid } = { pid: 0 }] = await lease.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const seen: string[] = [];
      await lease.transaction(async (tx) => {
        seen.push((await backend(pid))?.state ?? '?');
        await tx.query('INSERT INTO marks VALUES ($1)', [1]);
        seen.push((await backend(pid))?.state ?? '?');
      });
      expect(seen).toEqual(['idle', 'idle in transaction']);
      expect(await t.db.query('SELECT id FROM marks')).toEqual([{ id: 1 }]);
    } finally {
      await lease.release();
    }
  });

  it('sends nothing for a transaction without statements, and rolls back one that failed after its first', async () => {
    const lease = await t.db.tryLease('empty-transaction');
    if (!lease) throw new Error('no lease');
    try {
      const [{ pid } = { pid: 0 }] = await lease.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      expect(await lease.transaction(async () => 'nothing to write')).toBe('nothing to write');
      expect((await backend(pid))?.query).toContain('pg_backend_pid');

      await expect(
        lease.transaction(async (tx) => {
          await tx.query('INSERT INTO marks VALUES ($1)', [2]);
          throw new Error('handler failed');
        }),
      ).rejects.toThrow('handler failed');
      expect(await t.db.query('SELECT id FROM marks WHERE id = 2')).toEqual([]);
      expect((await backend(pid))?.state).toBe('idle');
    } finally {
      await lease.release();
    }
  });

  it('keeps a statement that was still waiting for BEGIN inside the transaction it rolls back', async () => {
    await expect(
      t.db.transaction(async (tx) => {
        // Not awaited, and the handler fails before BEGIN is even answered.
        tx.query('INSERT INTO marks VALUES ($1)', [3]).catch(() => {});
        await Promise.resolve();
        throw new Error('handler failed early');
      }),
    ).rejects.toThrow('handler failed early');
    await new Promise((r) => setTimeout(r, 100));
    expect(await t.db.query('SELECT id FROM marks WHERE id = 3')).toEqual([]);
  });

  it('fails the transaction when a statement it did not wait for fails, and refuses statements after it', async () => {
    let escaped: Sql | undefined;
    await expect(
      t.db.transaction(async (tx) => {
        escaped = tx;
        await tx.query('INSERT INTO marks VALUES ($1)', [4]);
        tx.query('INSERT INTO marks VALUES ($1)', [4]).catch(() => {}); // a duplicate key, not awaited
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await t.db.query('SELECT id FROM marks WHERE id = 4')).toEqual([]);
    await expect(escaped!.query('SELECT 1')).rejects.toThrow('statement on a transaction that is over');
  });
});
