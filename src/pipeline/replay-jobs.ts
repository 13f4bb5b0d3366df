import { z } from 'zod';
import { START, type Checkpoint } from '../events/index.js';
import type { ReadFilter, Sql } from '../store/index.js';

const jobRow = z.object({
  id: z.coerce.number(),
  subscription: z.string(),
  names: z.array(z.string()).nullable(),
  stream: z.string().nullable(),
  from_time: z.coerce.date().nullable(),
  until_time: z.coerce.date(),
  cursor_tx: z.string(),
  cursor_pos: z.coerce.number(),
  total: z.coerce.number(),
  done: z.coerce.number(),
  status: z.enum(['pending', 'running', 'done', 'failed', 'cancelled']),
  error: z.string().nullable(),
  created_at: z.coerce.date(),
  finished_at: z.coerce.date().nullable(),
});
export type ReplayJob = z.infer<typeof jobRow>;

export interface ReplayRequest {
  subscription: string;
  names?: readonly string[] | undefined;
  stream?: string | undefined;
  from?: Date | undefined;
  /** Defaults to now: a replay never reaches into events the live subscription has yet to see. */
  until?: Date | undefined;
  requestedBy?: number | null;
}

const COLUMNS = `id, subscription, names, stream, from_time, until_time, cursor_tx::text AS cursor_tx, cursor_pos,
  total, done, status, error, created_at, finished_at`;

export const jobFilter = (job: ReplayJob): ReadFilter => ({
  ...(job.names ? { names: job.names } : {}),
  ...(job.stream ? { stream: job.stream } : {}),
  ...(job.from_time ? { from: job.from_time } : {}),
  until: job.until_time,
});

export const jobCursor = (job: ReplayJob): Checkpoint => ({ transactionId: BigInt(job.cursor_tx), position: job.cursor_pos });

/** Replays of a filtered range to one subscription: created by operators, run by its lease holder. */
export const replaySql = {
  async create(sql: Sql, r: ReplayRequest, now: Date): Promise<ReplayJob> {
    const until = r.until ?? now;
    const params: unknown[] = [];
    const where = rangeWhere({ names: r.names, stream: r.stream, from: r.from, until }, params);
    const [count] = await sql.query(`SELECT count(*) AS n FROM events WHERE ${where}`, params);
    const [row] = await sql.query(
      `INSERT INTO replay_jobs (subscription, names, stream, from_time, until_time, total, requested_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [r.subscription, r.names?.length ? r.names : null, r.stream ?? null, r.from ?? null, until, Number(count?.n ?? 0), r.requestedBy ?? null],
    );
    return jobRow.parse(row);
  },

  /**
   * Whether events of the job's range lie after its cursor although a gap-safe read found
   * none: they committed behind an older transaction still in flight, so the job must wait
   * for them rather than finish short.
   */
  async hasUnreadEvents(sql: Sql, job: ReplayJob): Promise<boolean> {
    const params: unknown[] = [job.cursor_tx, job.cursor_pos];
    const where = rangeWhere({ names: job.names, stream: job.stream, from: job.from_time, until: job.until_time }, params);
    // ORDER BY … LIMIT 1 so the (transaction_id, position) index is walked from the cursor.
    const rows = await sql.query(
      `SELECT 1 FROM events WHERE (transaction_id, position) > ($1::xid8, $2::bigint) AND ${where}
       ORDER BY transaction_id, position LIMIT 1`,
      params,
    );
    return rows.length > 0;
  },

  async get(sql: Sql, id: number): Promise<ReplayJob | null> {
    const [row] = await sql.query(`SELECT ${COLUMNS} FROM replay_jobs WHERE id = $1`, [id]);
    return row ? jobRow.parse(row) : null;
  },

  async list(sql: Sql, limit: number): Promise<ReplayJob[]> {
    return (await sql.query(`SELECT ${COLUMNS} FROM replay_jobs ORDER BY id DESC LIMIT $1`, [limit])).map((r) => jobRow.parse(r));
  },

  async nextOpen(sql: Sql, subscription: string): Promise<ReplayJob | null> {
    const [row] = await sql.query(
      `SELECT ${COLUMNS} FROM replay_jobs WHERE subscription = $1 AND status IN ('pending', 'running') ORDER BY id LIMIT 1`,
      [subscription],
    );
    return row ? jobRow.parse(row) : null;
  },

  async progress(tx: Sql, id: number, cursor: Checkpoint, handled: number): Promise<void> {
    await tx.query(
      `UPDATE replay_jobs SET status = 'running', cursor_tx = $2::xid8, cursor_pos = $3, done = done + $4 WHERE id = $1`,
      [id, cursor.transactionId.toString(), cursor.position, handled],
    );
  },

  async finish(sql: Sql, id: number, status: 'done' | 'failed' | 'cancelled', error: string | null = null): Promise<void> {
    await sql.query(
      `UPDATE replay_jobs SET status = $2, error = $3, finished_at = now() WHERE id = $1 AND status IN ('pending', 'running')`,
      [id, status, error],
    );
  },
};

/** The SQL condition of a replay's range; appends its parameters to `params`. */
function rangeWhere(
  r: { names?: readonly string[] | null | undefined; stream?: string | null | undefined; from?: Date | null | undefined; until: Date },
  params: unknown[],
): string {
  params.push(r.until);
  const where = [`occurred_at < $${params.length}`];
  if (r.names?.length) {
    params.push(r.names);
    where.push(`name = ANY($${params.length}::text[])`);
  }
  if (r.stream) {
    params.push(r.stream);
    where.push(`stream = $${params.length}`);
  }
  if (r.from) {
    params.push(r.from);
    where.push(`occurred_at >= $${params.length}`);
  }
  return where.join(' AND ');
}

/**
 * The checkpoint just before the first event at or after `time`, for "replay from a point
 * in time": resuming after it delivers that event and everything after.
 */
export async function checkpointBefore(sql: Sql, time: Date): Promise<Checkpoint> {
  const [row] = await sql.query(
    `SELECT transaction_id::text AS tx, position FROM events WHERE occurred_at >= $1
     ORDER BY transaction_id, position LIMIT 1`,
    [time],
  );
  if (!row) {
    const [last] = await sql.query(`SELECT transaction_id::text AS tx, position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1`);
    return last ? { transactionId: BigInt(String(last.tx)), position: Number(last.position) } : START;
  }
  const position = Number(row.position);
  return { transactionId: BigInt(String(row.tx)), position: position - 1 };
}
