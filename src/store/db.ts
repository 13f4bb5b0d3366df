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

export interface Database extends Sql {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction; commits if it resolves, rolls back if it throws. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** SQLSTATEs we react to. */
export const PG = {
  uniqueViolation: '23505',
  snapshotImmutable: 'SF001',
} as const;

export function pgErrorCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}
