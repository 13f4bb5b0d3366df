/**
 * The one query port. PostgreSQL (pg) and PGlite both implement it; everything above the
 * store speaks only this. SQL is plain PostgreSQL that runs unchanged on both.
 *
 * Row values are normalised the same way on both adapters: int8 -> number (our ids and
 * positions stay far below 2^53), timestamptz -> Date, json/jsonb -> parsed. xid8 values
 * are always selected as `::text`.
 */
export type Row = Record<string, unknown>;

export interface Sql {
  query<T extends object = Row>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

export interface Transactional extends Sql {
  /** Runs `fn` in one transaction; commits if it resolves, rolls back if it throws. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
}

/**
 * A connection that holds a session advisory lock. Only one lease per key exists across
 * every process on the database; it ends when released or when its connection dies (the
 * server drops the lock then, so another process can take over). Work done under a lease
 * goes through the lease's own connection, so a holder whose connection died can commit
 * nothing more.
 */
export interface Lease extends Transactional {
  /** Resolves when the connection behind the lease is gone. */
  readonly lost: Promise<void>;
  release(): Promise<void>;
}

export interface Database extends Transactional {
  readonly kind: 'pglite' | 'postgres';
  /**
   * Takes the lease named `key` if no one holds it, else answers null at once. A lease's
   * session commits asynchronously (ADR 0011): what a subscription writes is derived from
   * the event log and is derived again if a crash of PostgreSQL loses its last commits. A
   * transaction on it that appends events commits synchronously all the same.
   */
  tryLease(key: string): Promise<Lease | null>;
  /**
   * Calls `onNotify` for every NOTIFY on `channel` from any process. A hint only: delivery
   * is not guaranteed (a dropped connection re-listens, missing what came meanwhile), so
   * after every (re)connection it calls `onNotify('')` once: "you may have missed something".
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Advisory-lock namespace of leases (the first key of the two-key form). */
export const LEASE_NAMESPACE = 727_002;

/** SQLSTATEs we react to. */
export const PG = {
  uniqueViolation: '23505',
  snapshotImmutable: 'SF001',
  /** Events appended after another write without `EventLog.lockForAppend` first (ADR 0011). */
  appendNotLocked: 'SF002',
} as const;

export function pgErrorCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}
