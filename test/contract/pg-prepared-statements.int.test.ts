import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgDatabase } from '../../src/store/index.js';
import { createPostgresDatabase, isCI, probePostgres, type TestDatabase } from '../support/databases.js';

/**
 * PgDatabase sends parameterised statements as named prepared statements. A migration that
 * changes a table's columns under a prepared `SELECT *` must not break later queries.
 */
const unavailable = isCI ? null : await probePostgres();
if (unavailable) console.warn(`skipped: ${unavailable}`);

describe.skipIf(unavailable !== null)('prepared statements on PostgreSQL', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createPostgresDatabase({ migrate: false });
    await t.db.exec('CREATE TABLE things (id int PRIMARY KEY, name text); INSERT INTO things VALUES (1, $$one$$)');
  });
  afterAll(() => t?.drop());

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
});
