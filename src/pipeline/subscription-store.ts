import { z } from 'zod';
import { formatCheckpoint, type Checkpoint, type StoredEvent } from '../events/index.js';
import type { Sql } from '../store/index.js';

const subscriptionRow = z.object({
  name: z.string(),
  checkpoint_tx: z.string(),
  checkpoint_pos: z.coerce.number(),
  paused: z.boolean(),
  handled_count: z.coerce.number(),
  failure_count: z.coerce.number(),
  retry_event_id: z.string().nullable(),
  retry_attempts: z.coerce.number(),
  retry_first_at: z.coerce.date().nullable(),
  retry_error: z.string().nullable(),
  next_retry_at: z.coerce.date().nullable(),
  last_handled_at: z.coerce.date().nullable(),
  holder: z.string().nullable(),
  heartbeat_at: z.coerce.date().nullable(),
});
export type SubscriptionRow = z.infer<typeof subscriptionRow>;

export const checkpointOf = (r: SubscriptionRow): Checkpoint => ({
  transactionId: BigInt(r.checkpoint_tx),
  position: r.checkpoint_pos,
});

const COLUMNS = `name, checkpoint_tx::text AS checkpoint_tx, checkpoint_pos, paused, handled_count, failure_count,
  retry_event_id::text AS retry_event_id, retry_attempts, retry_first_at, retry_error, next_retry_at,
  last_handled_at, holder, heartbeat_at`;

/** Thrown when the checkpoint moved under us (an operator reset it, or a lease was lost). */
export class CheckpointMoved extends Error {
  constructor(name: string) {
    super(`checkpoint of subscription ${name} moved under its runner`);
  }
}

/** SQL for the subscriptions table. Every checkpoint write is a compare-and-set. */
export const subscriptionSql = {
  async ensure(sql: Sql, name: string): Promise<void> {
    await sql.query('INSERT INTO subscriptions (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [name]);
  },

  async load(sql: Sql, name: string): Promise<SubscriptionRow | null> {
    const [row] = await sql.query(`SELECT ${COLUMNS} FROM subscriptions WHERE name = $1`, [name]);
    return row ? subscriptionRow.parse(row) : null;
  },

  async all(sql: Sql): Promise<SubscriptionRow[]> {
    return (await sql.query(`SELECT ${COLUMNS} FROM subscriptions ORDER BY name`)).map((r) => subscriptionRow.parse(r));
  },

  /** Moves the checkpoint from `from` to `to`; counts handled events; clears retry state. */
  async advance(sql: Sql, name: string, from: Checkpoint, to: Checkpoint, handled: number, now: Date): Promise<void> {
    const rows = await sql.query(
      `UPDATE subscriptions SET checkpoint_tx = $4::xid8, checkpoint_pos = $5, handled_count = handled_count + $6,
         last_handled_at = CASE WHEN $6 > 0 THEN $7::timestamptz ELSE last_handled_at END,
         retry_event_id = NULL, retry_attempts = 0, retry_first_at = NULL, retry_error = NULL, next_retry_at = NULL,
         updated_at = $7
       WHERE name = $1 AND checkpoint_tx = $2::xid8 AND checkpoint_pos = $3 RETURNING name`,
      [name, from.transactionId.toString(), from.position, to.transactionId.toString(), to.position, handled, now],
    );
    if (rows.length === 0) throw new CheckpointMoved(name);
  },

  async recordFailure(sql: Sql, name: string, event: StoredEvent, attempts: number, error: string, nextRetryAt: Date, now: Date) {
    await sql.query(
      `UPDATE subscriptions SET failure_count = failure_count + 1, retry_event_id = $2, retry_attempts = $3,
         retry_first_at = COALESCE(CASE WHEN retry_event_id = $2 THEN retry_first_at END, $6::timestamptz),
         retry_error = $4, next_retry_at = $5, updated_at = $6
       WHERE name = $1`,
      [name, event.id, attempts, error.slice(0, 2000), nextRetryAt, now],
    );
  },

  /** Counts the last, unretried attempt at an event that is being parked. */
  async countFailure(sql: Sql, name: string): Promise<void> {
    await sql.query('UPDATE subscriptions SET failure_count = failure_count + 1 WHERE name = $1', [name]);
  },

  async heartbeat(sql: Sql, name: string, holder: string | null, now: Date): Promise<void> {
    await sql.query('UPDATE subscriptions SET holder = $2, heartbeat_at = $3 WHERE name = $1', [name, holder, now]);
  },

  async setPaused(sql: Sql, name: string, paused: boolean): Promise<boolean> {
    const rows = await sql.query('UPDATE subscriptions SET paused = $2, updated_at = now() WHERE name = $1 RETURNING name', [name, paused]);
    return rows.length > 0;
  },

  /** Operator reset: the runner notices at its next compare-and-set and re-reads from here. */
  async reset(sql: Sql, name: string, to: Checkpoint): Promise<boolean> {
    const rows = await sql.query(
      `UPDATE subscriptions SET checkpoint_tx = $2::xid8, checkpoint_pos = $3, retry_event_id = NULL, retry_attempts = 0,
         retry_first_at = NULL, retry_error = NULL, next_retry_at = NULL, updated_at = now()
       WHERE name = $1 RETURNING name`,
      [name, to.transactionId.toString(), to.position],
    );
    return rows.length > 0;
  },
};

export const describeCheckpoint = (r: SubscriptionRow) => formatCheckpoint(checkpointOf(r));
