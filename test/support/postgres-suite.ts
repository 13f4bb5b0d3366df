import { afterAll, beforeAll, describe, it } from 'vitest';
import { createPostgresDatabase, isCI, probePostgres, type TestDatabase } from './databases.js';

/**
 * A suite that needs a real PostgreSQL server (other processes must share the database).
 * Each suite gets a fresh database, dropped after. Without PostgreSQL the suite is skipped
 * with the reason in its title, unless CI is set: then it fails.
 */
export async function describeOnPostgres(title: string, body: (database: () => TestDatabase) => void): Promise<void> {
  const unavailable = isCI ? null : await probePostgres();
  if (unavailable) {
    describe.skip(`${title} — skipped: ${unavailable} (set STOREFLOW_TEST_DATABASE_URL)`, () => {
      it('needs PostgreSQL', () => {});
    });
    console.warn(`skipped "${title}": ${unavailable}`);
    return;
  }
  describe(title, () => {
    let current: TestDatabase | undefined;
    beforeAll(async () => {
      current = await createPostgresDatabase();
    }, 60_000);
    afterAll(async () => {
      await current?.drop();
    });
    body(() => {
      if (!current) throw new Error('database not ready');
      return current;
    });
  });
}
