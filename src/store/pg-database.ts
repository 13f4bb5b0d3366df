import { createHash } from 'node:crypto';
import pg from 'pg';
import { LEASE_NAMESPACE, type Database, type Lease, type Row, type Sql } from './db.js';

const INT8_OID = 20;

export interface PgDatabaseOptions {
  connectionString: string;
  max?: number;
  /** How long a query may wait for a free connection before failing (ms). */
  connectionTimeoutMillis?: number;
  /** Server-side cap for any one statement (ms); keeps a stuck database from hanging requests. */
  statementTimeoutMillis?: number;
}

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * Every parameterised statement is sent as a named prepared statement (named after a hash of
 * its text), so each connection plans it once instead of on every call: on the command path
 * planning cost more than execution. Statement texts are fixed strings in the code, so each
 * connection holds a small, bounded set.
 */
/** "cached plan must not change result type": a migration changed a table under a prepared statement. */
const STALE_PLAN = '0A000';
const isStalePlan = (e: unknown) => (e as { code?: unknown } | null)?.code === STALE_PLAN;

function prepared(text: string, params: readonly unknown[]): pg.QueryConfig {
  if (params.length === 0) return { text };
  const name = `sf_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
  return { name, text, values: params as unknown[] };
}

/** Runs `fn` in a transaction on one client. */
async function inTransaction<T>(client: pg.ClientBase, fn: (tx: Sql) => Promise<T>): Promise<{ result: T; broken: boolean }> {
  await client.query('BEGIN');
  try {
    const result = await fn(clientSql(client));
    await client.query('COMMIT');
    return { result, broken: false };
  } catch (e) {
    // A connection whose prepared statements went stale is dropped, not reused.
    let broken = isStalePlan(e);
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    if (broken) Object.assign(e as object, { connectionBroken: true });
    throw e;
  }
}

function clientSql(client: pg.ClientBase): Sql {
  return {
    query: async <R extends object = Row>(text: string, params: readonly unknown[] = []) =>
      (await client.query(prepared(text, params))).rows as R[],
    exec: async (script: string) => {
      await client.query(script);
    },
  };
}

/** PostgreSQL over the network through a pg pool; leases and LISTEN use dedicated clients. */
export class PgDatabase implements Database {
  readonly kind = 'postgres' as const;
  readonly pool: pg.Pool;
  private readonly options: PgDatabaseOptions;

  constructor(options: PgDatabaseOptions) {
    this.options = options;
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.max ?? 10,
      connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5_000,
      statement_timeout: options.statementTimeoutMillis ?? 15_000,
      // A peer that vanished without closing (a dead host, a cut network) is noticed by TCP.
      keepAlive: true,
      types,
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    this.pool.on('error', () => {});
  }

  async query<T extends object = Row>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    const client = await this.pool.connect();
    try {
      const result = await client.query(prepared(text, params));
      client.release();
      return result.rows as T[];
    } catch (e) {
      client.release(isStalePlan(e));
      if (!isStalePlan(e)) throw e;
      return (await this.pool.query(text, params as unknown[])).rows as T[];
    }
  }

  async exec(script: string): Promise<void> {
    await this.pool.query(script);
  }

  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      return (await inTransaction(client, fn)).result;
    } catch (e) {
      broken = (e as { connectionBroken?: boolean }).connectionBroken === true;
      throw e;
    } finally {
      client.release(broken);
    }
  }

  private async dedicatedClient(): Promise<{ client: pg.Client; gone: Promise<void> }> {
    const client = new pg.Client({
      connectionString: this.options.connectionString,
      connectionTimeoutMillis: this.options.connectionTimeoutMillis ?? 5_000,
      statement_timeout: this.options.statementTimeoutMillis ?? 15_000,
      keepAlive: true,
      types,
    });
    const gone = new Promise<void>((resolve) => {
      client.on('error', () => resolve());
      client.on('end', () => resolve());
    });
    await client.connect();
    return { client, gone };
  }

  async tryLease(key: string): Promise<Lease | null> {
    const { client, gone } = await this.dedicatedClient();
    try {
      const [row] = (await client.query('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [LEASE_NAMESPACE, key])).rows;
      if (!row?.ok) {
        await client.end();
        return null;
      }
    } catch (e) {
      await client.end().catch(() => {});
      throw e;
    }
    const sql = clientSql(client);
    return {
      ...sql,
      lost: gone,
      transaction: async (fn) => (await inTransaction(client, fn)).result,
      release: async () => {
        await client.end().catch(() => {});
      },
    };
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    let stopped = false;
    let current: pg.Client | undefined;
    const connect = async (): Promise<void> => {
      while (!stopped) {
        try {
          const { client, gone } = await this.dedicatedClient();
          current = client;
          client.on('notification', (n) => {
            if (n.channel === channel) onNotify(n.payload ?? '');
          });
          await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
          // Whatever was notified while we were away is found by polling; wake once now.
          onNotify('');
          await gone;
        } catch {
          // fall through to retry
        }
        if (!stopped) await new Promise((r) => setTimeout(r, 1_000));
      }
    };
    void connect();
    return async () => {
      stopped = true;
      await current?.end().catch(() => {});
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
