import { z } from 'zod';
import type { StoredEvent } from '../events/index.js';
import type { Sql } from '../store/index.js';

const deadLetterRow = z.object({
  id: z.coerce.number(),
  subscription: z.string(),
  event_id: z.string(),
  event_position: z.coerce.number(),
  event_name: z.string(),
  stream: z.string(),
  merchant_id: z.coerce.number().nullable(),
  store_id: z.coerce.number().nullable(),
  error: z.string(),
  attempts: z.coerce.number(),
  first_failed_at: z.coerce.date(),
  last_failed_at: z.coerce.date(),
  status: z.enum(['parked', 'retry_requested', 'retried', 'discarded']),
  resolved_at: z.coerce.date().nullable(),
  resolved_by: z.coerce.number().nullable(),
  resolution_reason: z.string().nullable(),
});
export type DeadLetter = z.infer<typeof deadLetterRow>;
export type DeadLetterStatus = DeadLetter['status'];

export interface DeadLetterFilter {
  status?: DeadLetterStatus;
  subscription?: string;
  eventName?: string;
  merchantId?: number;
  beforeId?: number;
  limit: number;
}

const COLUMNS = `id, subscription, event_id::text AS event_id, event_position, event_name, stream, merchant_id, store_id,
  error, attempts, first_failed_at, last_failed_at, status, resolved_at, resolved_by, resolution_reason`;

/** SQL for parked events: written by runners, listed and resolved by operators. */
export const deadLetterSql = {
  async park(
    tx: Sql,
    subscription: string,
    event: StoredEvent,
    failure: { error: string; attempts: number; firstFailedAt: Date; lastFailedAt: Date },
  ): Promise<void> {
    await tx.query(
      `INSERT INTO dead_letters (subscription, event_id, event_position, event_name, stream, merchant_id, store_id,
         error, attempts, first_failed_at, last_failed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (subscription, event_id) WHERE status IN ('parked', 'retry_requested')
       DO UPDATE SET error = EXCLUDED.error, attempts = dead_letters.attempts + EXCLUDED.attempts,
         last_failed_at = EXCLUDED.last_failed_at, status = 'parked'`,
      [
        subscription, event.id, event.position, event.name, event.stream, event.metadata.merchant_id,
        event.metadata.store_id, failure.error.slice(0, 2000), failure.attempts, failure.firstFailedAt, failure.lastFailedAt,
      ],
    );
  },

  async list(sql: Sql, f: DeadLetterFilter): Promise<DeadLetter[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      params.push(value);
      where.push(clause.replace('?', `$${params.length}`));
    };
    if (f.status) add('status = ?', f.status);
    if (f.subscription) add('subscription = ?', f.subscription);
    if (f.eventName) add('event_name = ?', f.eventName);
    if (f.merchantId !== undefined) add('merchant_id = ?', f.merchantId);
    if (f.beforeId !== undefined) add('id < ?', f.beforeId);
    params.push(f.limit);
    const rows = await sql.query(
      `SELECT ${COLUMNS} FROM dead_letters ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => deadLetterRow.parse(r));
  },

  async get(sql: Sql, id: number): Promise<DeadLetter | null> {
    const [row] = await sql.query(`SELECT ${COLUMNS} FROM dead_letters WHERE id = $1`, [id]);
    return row ? deadLetterRow.parse(row) : null;
  },

  /** Marks parked letters for retry by the subscription's lease holder; returns their ids. */
  async requestRetry(sql: Sql, ids: readonly number[] | 'all-parked', merchantId?: number): Promise<number[]> {
    const rows = await sql.query(
      `UPDATE dead_letters SET status = 'retry_requested'
       WHERE status = 'parked' AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[]))
         AND ($2::bigint IS NULL OR merchant_id = $2) RETURNING id`,
      [ids === 'all-parked' ? null : ids, merchantId ?? null],
    );
    return rows.map((r) => Number(r.id));
  },

  async discard(sql: Sql, id: number, by: number | null, reason: string, merchantId?: number): Promise<DeadLetter | null> {
    const [row] = await sql.query(
      `UPDATE dead_letters SET status = 'discarded', resolved_at = now(), resolved_by = $2, resolution_reason = $3
       WHERE id = $1 AND status IN ('parked', 'retry_requested') AND ($4::bigint IS NULL OR merchant_id = $4)
       RETURNING ${COLUMNS}`,
      [id, by, reason, merchantId ?? null],
    );
    return row ? deadLetterRow.parse(row) : null;
  },

  async retryRequested(sql: Sql, subscription: string, limit: number): Promise<DeadLetter[]> {
    const rows = await sql.query(
      `SELECT ${COLUMNS} FROM dead_letters WHERE subscription = $1 AND status = 'retry_requested' ORDER BY id LIMIT $2`,
      [subscription, limit],
    );
    return rows.map((r) => deadLetterRow.parse(r));
  },

  async markRetried(tx: Sql, id: number): Promise<void> {
    await tx.query(`UPDATE dead_letters SET status = 'retried', resolved_at = now() WHERE id = $1`, [id]);
  },

  async markRetryFailed(sql: Sql, id: number, error: string): Promise<void> {
    await sql.query(
      `UPDATE dead_letters SET status = 'parked', attempts = attempts + 1, last_failed_at = now(), error = $2 WHERE id = $1`,
      [id, error.slice(0, 2000)],
    );
  },

  async countParked(sql: Sql): Promise<Map<string, number>> {
    const rows = await sql.query(
      `SELECT subscription, count(*) AS n FROM dead_letters WHERE status IN ('parked', 'retry_requested') GROUP BY subscription`,
    );
    return new Map(rows.map((r) => [String(r.subscription), Number(r.n)]));
  },
};
