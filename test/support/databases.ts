import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PgDatabase, PgliteDatabase, migrate, type Database } from '../../src/store/index.js';

/**
 * The adapters every contract suite runs against: embedded PGlite (always) and a real
 * PostgreSQL server. Each PostgreSQL suite gets a fresh database of its own, dropped after.
 *
 * Without CI, an unreachable PostgreSQL skips its suites with a clear message; with
 * CI=true it fails them instead.
 */
export const POSTGRES_URL = process.env.STOREFLOW_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  db: Database;
  /** Connection string of the fresh database (PostgreSQL only). */
  url: string | null;
  drop(): Promise<void>;
}

export interface AdapterFactory {
  name: 'pglite' | 'postgres';
  /** null when the adapter is unavailable here (and it may be skipped). */
  unavailable: string | null;
  create(): Promise<TestDatabase>;
}

let postgresProbe: Promise<string | null> | undefined;

/** Resolves to null when PostgreSQL answers, else to the reason it does not. */
export function probePostgres(): Promise<string | null> {
  postgresProbe ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return null;
    } catch (e) {
      return `no PostgreSQL at ${redact(POSTGRES_URL)} (${(e as Error).message})`;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return postgresProbe;
}

const redact = (url: string) => url.replace(/\/\/[^@/]*@/, '//…@');

export const isCI = process.env.CI === 'true' || process.env.CI === '1';

/** A fresh, migrated PostgreSQL database; fails loudly when PostgreSQL is unreachable. */
export async function createPostgresDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `storeflow_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5000 });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  const db = new PgDatabase({ connectionString: url.toString(), max: 20 });
  if (options.migrate !== false) await migrate(db);
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.close().catch(() => {});
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function createPgliteDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const db = await PgliteDatabase.open();
  if (options.migrate !== false) await migrate(db);
  return { db, url: null, drop: () => db.close() };
}

/** Both adapters, for `describe.each`-style contract suites. */
export async function adapters(): Promise<AdapterFactory[]> {
  const pgReason = await probePostgres();
  return [
    { name: 'pglite', unavailable: null, create: createPgliteDatabase },
    { name: 'postgres', unavailable: isCI ? null : pgReason, create: createPostgresDatabase },
  ];
}

/**
 * Declares `body` once per adapter. `body` receives a getter for a fresh migrated database
 * (one per suite, created in beforeAll and dropped in afterAll).
 */
export async function describeEachAdapter(
  title: string,
  body: (ctx: { adapter: AdapterFactory['name']; db: () => Database; url: () => string | null }) => void,
): Promise<void> {
  const { describe, beforeAll, afterAll } = await import('vitest');
  for (const adapter of await adapters()) {
    const label = `${title} [${adapter.name}]`;
    if (adapter.unavailable) {
      describe.skip(`${label} — skipped: ${adapter.unavailable}`, () => {});
      console.warn(`skipped: ${adapter.unavailable}`);
      continue;
    }
    describe(label, () => {
      let current: TestDatabase | undefined;
      beforeAll(async () => {
        current = await adapter.create();
      }, 60_000);
      afterAll(async () => {
        await current?.drop();
      });
      const db = () => {
        if (!current) throw new Error('database not ready');
        return current.db;
      };
      body({ adapter: adapter.name, db, url: () => current?.url ?? null });
    });
  }
}
