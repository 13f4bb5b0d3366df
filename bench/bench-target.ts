import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PgDatabase, PgliteDatabase, type Database } from '../src/store/index.js';

/** Transactions with an xid held open by other databases of the cluster, sampled during a run. */
export interface ForeignTransactions {
  samples: number;
  withHolder: number;
  oldestMs: number[];
}

/** A throwaway database for one benchmark run. */
export interface BenchTarget {
  readonly kind: Database['kind'];
  /** The throwaway database's name (PostgreSQL), or "memory". */
  readonly name: string;
  readonly db: Database;
  /** PostgreSQL server processes serving this database (none for PGlite). */
  backendPids(): Promise<number[]>;
  /** PostgreSQL: samples, every 100 ms from `from` to `to`, transactions of other databases holding an xid. */
  sampleForeignTransactions(from: number, to: number): Promise<ForeignTransactions | null>;
  /** Closes and, for PostgreSQL, drops the database. */
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Every target not yet closed. `dropAll()` removes them, for a run that fails or is
 * interrupted: DROP ... WITH (FORCE) ends whatever connections are left, so it never waits
 * on a stuck client.
 */
const open = new Set<() => Promise<void>>();
export async function dropAll(): Promise<void> {
  for (const drop of open) await drop().catch((e: unknown) => console.error('cleanup failed:', e instanceof Error ? e.message : e));
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh PostgreSQL database storeflow_bench_pipe_<random>, created through `adminUrl`. */
export async function openPostgresTarget(adminUrl: string, poolMax: number): Promise<BenchTarget> {
  const name = `storeflow_bench_pipe_${randomBytes(4).toString('hex')}`;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const drop = async () => {
    open.delete(drop);
    await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  };
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  open.add(drop);
  const db = new PgDatabase({ connectionString: url.toString(), max: poolMax });
  return {
    kind: 'postgres',
    name,
    db,
    backendPids: () =>
      withClient(adminUrl, async (c) => (await c.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [name])).rows.map((r) => Number(r.pid))),
    sampleForeignTransactions: (from, to) => sampleForeignTransactions(adminUrl, name, from, to),
    close: async () => {
      await Promise.race([db.close(), sleep(5_000)]);
      await drop();
    },
  };
}

/** PGlite in memory. */
export async function openPgliteTarget(): Promise<BenchTarget> {
  const db = await PgliteDatabase.open();
  const close = async () => {
    open.delete(close);
    await db.close();
  };
  open.add(close);
  return { kind: 'pglite', name: 'memory', db, backendPids: async () => [], sampleForeignTransactions: async () => null, close };
}

/**
 * A gap-safe read stops below the oldest transaction in flight on the whole cluster (xids
 * and snapshots are not per database), so a transaction in another database holds a
 * subscription back too. One connection, ten cheap queries a second.
 */
async function sampleForeignTransactions(adminUrl: string, ours: string, from: number, to: number): Promise<ForeignTransactions> {
  await sleep(Math.max(0, from - performance.now()));
  return withClient(adminUrl, async (c) => {
    const found: ForeignTransactions = { samples: 0, withHolder: 0, oldestMs: [] };
    for (; performance.now() < to; await sleep(100)) {
      const { rows: [row] } = await c.query(
        `SELECT count(*)::int AS n, coalesce(extract(epoch FROM max(clock_timestamp() - xact_start)) * 1000, 0)::float8 AS oldest_ms
         FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM $1`,
        [ours],
      );
      found.samples++;
      if (Number(row?.n) > 0) {
        found.withHolder++;
        found.oldestMs.push(Number(row?.oldest_ms));
      }
    }
    return found;
  });
}
