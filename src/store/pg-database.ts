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
  /**
   * Client-side cap on waiting for any one answer (ms; default: the statement timeout + 2 s),
   * for a server that stopped answering altogether (frozen, or cut off without a reset), where
   * statement_timeout never fires. The connection is then cut; the server rolls back whatever
   * it had open on it when it notices.
   */
  queryTimeoutMillis?: number;
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

/** pg's error when no answer came within query_timeout. */
const isReadTimeout = (e: unknown) => e instanceof Error && e.message === 'Query read timeout';

/**
 * Cuts the socket of a connection whose query got no answer in time: its query is still
 * "active" in pg, so anything else sent on it (a ROLLBACK, the next request's query, a
 * graceful end) would wait behind it.
 */
function cut(client: pg.ClientBase): void {
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

/** Ends a dedicated client; a graceful end waits for the server's answer, so one that stopped answering gets cut. */
async function endClient(client: pg.Client): Promise<void> {
  const timer = setTimeout(() => cut(client), 2_000);
  await client.end().catch(() => {});
  clearTimeout(timer);
}

/** Runs a query on one client; a query left unanswered cuts the connection. */
async function guarded<T>(client: pg.ClientBase, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (isReadTimeout(e)) cut(client);
    throw e;
  }
}

/**
 * Statement names by SQL text. The texts are the code's own (a bounded set), so this stays
 * small; it is emptied should it ever pass `MAX_NAMED` anyway. Saves a hash per query.
 */
const statementNames = new Map<string, string>();
const MAX_NAMED = 2_000;

function prepared(text: string, params: readonly unknown[]): pg.QueryConfig {
  if (params.length === 0) return { text };
  let name = statementNames.get(text);
  if (name === undefined) {
    if (statementNames.size >= MAX_NAMED) statementNames.clear();
    name = `sf_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return { name, text, values: params as unknown[] };
}

/**
 * Runs `fn` in a transaction on one client. BEGIN is sent when `fn` issues its first
 * statement, not before `fn` starts: what `fn` does before that (the broadcaster publishes)
 * waits for no round trip and holds no transaction open, and a transaction without
 * statements costs none. Under READ COMMITTED (and REPEATABLE READ) nothing is read or
 * locked before the first statement anyway, so this changes no outcome.
 *
 * Every statement `fn` issued has settled before COMMIT or ROLLBACK is sent, so none can
 * be queued behind them and run outside the transaction (a statement still waiting for
 * BEGIN when `fn` throws, say), and one that failed unawaited fails the transaction.
 * `tx` refuses statements once the transaction is over.
 */
async function inTransaction<T>(client: pg.ClientBase, fn: (tx: Sql) => Promise<T>): Promise<{ result: T; broken: boolean }> {
  const sql = clientSql(client);
  let begun: Promise<unknown> | undefined;
  let over = false;
  const issued = new Set<Promise<unknown>>();
  const inside = <R>(run: () => Promise<R>): Promise<R> => {
    if (over) return Promise.reject(new Error('statement on a transaction that is over'));
    begun ??= guarded(client, () => client.query('BEGIN'));
    const started = begun;
    const statement = (async () => {
      await started;
      return run();
    })();
    issued.add(statement);
    void statement.then(
      () => issued.delete(statement),
      () => issued.delete(statement),
    );
    return statement;
  };
  const settled = () => Promise.allSettled([...issued]);
  const tx: Sql = {
    query: (text, params) => inside(() => sql.query(text, params)),
    exec: (script) => inside(() => sql.exec(script)),
  };
  try {
    const result = await fn(tx);
    over = true;
    if (begun) {
      // A statement `fn` did not wait for may still fail: then the transaction is lost, and
      // COMMIT would only answer ROLLBACK.
      const failed = (await settled()).find((o) => o.status === 'rejected');
      if (failed) throw failed.reason;
      await begun;
      await guarded(client, () => client.query('COMMIT'));
    }
    return { result, broken: false };
  } catch (e) {
    over = true;
    // A connection whose prepared statements went stale is dropped, not reused; one that
    // stopped answering was cut, and the server rolls back when it notices.
    let broken = isStalePlan(e) || isReadTimeout(e);
    if (begun && !isReadTimeout(e)) {
      await settled();
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
    }
    if (broken) Object.assign(e as object, { connectionBroken: true });
    throw e;
  }
}

function clientSql(client: pg.ClientBase): Sql {
  return {
    query: async <R extends object = Row>(text: string, params: readonly unknown[] = []) =>
      (await guarded(client, () => client.query(prepared(text, params)))).rows as R[],
    exec: async (script: string) => {
      await guarded(client, () => client.query(script));
    },
  };
}

/** PostgreSQL over the network through a pg pool; leases and LISTEN use dedicated clients. */
export class PgDatabase implements Database {
  readonly kind = 'postgres' as const;
  readonly pool: pg.Pool;
  private readonly options: PgDatabaseOptions;
  private readonly queryTimeoutMillis: number;

  constructor(options: PgDatabaseOptions) {
    this.options = options;
    this.queryTimeoutMillis = options.queryTimeoutMillis ?? (options.statementTimeoutMillis ?? 15_000) + 2_000;
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.max ?? 10,
      connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5_000,
      statement_timeout: options.statementTimeoutMillis ?? 15_000,
      query_timeout: this.queryTimeoutMillis,
      // A peer that vanished without closing (a dead host, a cut network) is noticed by TCP.
      keepAlive: true,
      types,
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    this.pool.on('error', () => {});
    // Nor may a checked-out one between two queries (pg-pool listens only while a client is
    // idle): a server shutting down sends 57P01 to every session, busy or not. The query in
    // flight, or the next one, fails instead, and the broken client is dropped on release.
    this.pool.on('connect', (client) => client.on('error', () => {}));
  }

  async query<T extends object = Row>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    const client = await this.pool.connect();
    try {
      const result = await guarded(client, () => client.query(prepared(text, params)));
      client.release();
      return result.rows as T[];
    } catch (e) {
      client.release(isStalePlan(e) || isReadTimeout(e));
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
      query_timeout: this.queryTimeoutMillis,
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
      const [row] = (
        await client.query(
          `SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok, set_config('synchronous_commit', 'off', false)`,
          [LEASE_NAMESPACE, key],
        )
      ).rows;
      if (!row?.ok) {
        await endClient(client);
        return null;
      }
    } catch (e) {
      await endClient(client);
      throw e;
    }
    const sql = clientSql(client);
    return {
      ...sql,
      lost: gone,
      transaction: async (fn) => (await inTransaction(client, fn)).result,
      release: async () => {
        // Unlock first: ending the session frees the lock too, but only once the server has
        // finished with the session, after our end() has returned. Whoever is told "released"
        // next must find it free.
        await guarded(client, () => client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LEASE_NAMESPACE, key])).catch(() => {});
        await endClient(client);
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
      if (current) await endClient(current);
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
