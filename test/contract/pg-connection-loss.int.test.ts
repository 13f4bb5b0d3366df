import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { PgDatabase } from '../../src/store/index.js';
import { describeOnPostgres } from '../support/postgres-suite.js';

/**
 * A PostgreSQL session that ends under a busy connection (a server shutting down, an admin's
 * pg_terminate_backend) must fail that connection's work, never the process: pg emits the
 * server's FATAL as an 'error' event when no query is in flight, which would be thrown as an
 * unhandled error on a checked-out pool client. The transaction rolls back, its connection is
 * dropped, and the next query gets a fresh one.
 */
await describeOnPostgres('a PostgreSQL session killed under a checked-out connection [postgres]', (database) => {
  it('fails the transaction, not the process, and the pool goes on with a fresh connection', async () => {
    const db = new PgDatabase({ connectionString: database().url!, max: 2 });
    const killer = new PgDatabase({ connectionString: database().url!, max: 1 });
    try {
      await db.exec('CREATE TABLE IF NOT EXISTS connection_loss_probe (n int)');
      const outcome = db.transaction(async (tx) => {
        const [row] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await tx.query('INSERT INTO connection_loss_probe VALUES (1)');
        await killer.query('SELECT pg_terminate_backend($1)', [row!.pid]);
        // The FATAL arrives while this connection is idle in its transaction.
        await sleep(300);
        await tx.query('INSERT INTO connection_loss_probe VALUES (2)');
      });
      await expect(outcome).rejects.toThrow(/terminat|Connection|not queryable/i);
      const rows = await db.query<{ n: number }>('SELECT n FROM connection_loss_probe');
      expect(rows).toEqual([]);
    } finally {
      await db.close();
      await killer.close();
    }
  });
});
