import { LEASE_NAMESPACE, type Sql } from '../../src/store/index.js';

/**
 * Tables the pipeline worker's probe (test/support/pipeline-worker.ts) writes, for the
 * reliability suites to read:
 * - `probe_handled`: one row per handled event, written in the handler's transaction, so
 *   it commits with the checkpoint. No unique constraint: a duplicate would show.
 * - `probe_attempts`: one row per handler call, written on its own connection before the
 *   handler's work, so attempts cut short by a crash or a failure stay visible.
 */
const DDL = `
CREATE TABLE IF NOT EXISTS probe_handled (
  seq            bigserial PRIMARY KEY,
  subscription   text NOT NULL,
  event_id       uuid NOT NULL,
  transaction_id xid8 NOT NULL,
  position       bigint NOT NULL,
  pid            integer NOT NULL,
  handled_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE IF NOT EXISTS probe_attempts (
  seq           bigserial PRIMARY KEY,
  subscription  text NOT NULL,
  event_id      uuid NOT NULL,
  pid           integer NOT NULL,
  attempted_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);`;

export async function createProbeHandledTables(sql: Sql): Promise<void> {
  await sql.exec(DDL);
}

export interface HandledRow {
  seq: number;
  event_id: string;
  transaction_id: string;
  position: number;
  pid: number;
  handled_at: Date;
}

export interface AttemptRow {
  seq: number;
  event_id: string;
  pid: number;
  attempted_at: Date;
}

/** Handled events of `subscription` in the order they were handled. */
export async function handledRows(sql: Sql, subscription = 'probe'): Promise<HandledRow[]> {
  return sql.query<HandledRow>(
    `SELECT seq, event_id::text AS event_id, transaction_id::text AS transaction_id, position, pid, handled_at
     FROM probe_handled WHERE subscription = $1 ORDER BY seq`,
    [subscription],
  );
}

export async function attemptRows(sql: Sql, subscription = 'probe'): Promise<AttemptRow[]> {
  return sql.query<AttemptRow>(
    `SELECT seq, event_id::text AS event_id, pid, attempted_at FROM probe_attempts WHERE subscription = $1 ORDER BY seq`,
    [subscription],
  );
}

/** Every event id in the log, in gap-safe order (transaction id as a number, then position). */
export async function loggedEventIds(sql: Sql): Promise<string[]> {
  const rows = await sql.query<{ id: string }>('SELECT id::text AS id FROM events ORDER BY events.transaction_id, events.position');
  return rows.map((r) => r.id);
}

/**
 * How many sessions hold the lease of `subscription` (PostgreSQL advisory locks): 1 while a
 * runner holds it, 0 once the holder's connection is gone and the server has let go.
 */
export async function leaseHolders(sql: Sql, subscription = 'probe'): Promise<number> {
  const [row] = await sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND classid = $1 AND objid::bigint = (hashtext($2)::bigint + 4294967296) % 4294967296 AND objsubid = 2`,
    [LEASE_NAMESPACE, `subscription:${subscription}`],
  );
  return row?.n ?? 0;
}
