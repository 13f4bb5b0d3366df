import { z } from 'zod';
import type { Sql } from '../store/index.js';

export const DELIVERY_KINDS = ['email', 'webhook', 'sms', 'push'] as const;
export type DeliveryKind = (typeof DELIVERY_KINDS)[number];

/** The dead-letter subscription name under which a kind's parked deliveries are listed. */
export const deadLetterSubscription = (kind: DeliveryKind) => `delivery:${kind}`;

/** What a subscriber writes to the outbox, inside its own transaction. */
export interface NewDelivery {
  kind: DeliveryKind;
  merchantId: number | null;
  target: string;
  /** Set for webhooks (and only for them). */
  endpointId?: number;
  payload: Record<string, unknown>;
  sourceEventId: string;
  eventName: string;
}

const deliveryRow = z.object({
  id: z.coerce.number(),
  kind: z.enum(DELIVERY_KINDS),
  merchant_id: z.coerce.number().nullable(),
  target: z.string(),
  endpoint_id: z.coerce.number().nullable(),
  payload: z.record(z.string(), z.unknown()),
  source_event_id: z.string(),
  event_name: z.string(),
  attempts: z.coerce.number(),
  next_attempt_at: z.coerce.date(),
  status: z.enum(['pending', 'delivered', 'parked', 'cancelled']),
  last_error: z.string().nullable(),
  first_failed_at: z.coerce.date().nullable(),
  created_at: z.coerce.date(),
  delivered_at: z.coerce.date().nullable(),
});
export type Delivery = z.infer<typeof deliveryRow>;

/** A claimed delivery with what its transport needs from the endpoint (webhooks). */
const claimedRow = deliveryRow.extend({
  endpoint_url: z.string().nullable(),
  endpoint_secret: z.string().nullable(),
  endpoint_active: z.boolean().nullable(),
});
export type ClaimedDelivery = z.infer<typeof claimedRow>;

/** The row's columns, each prefixed with `p` (a table alias and dot) when given. */
const columns = (p = '') =>
  `${p}id, ${p}kind, ${p}merchant_id, ${p}target, ${p}endpoint_id, ${p}payload, ${p}source_event_id::text AS source_event_id,
   ${p}event_name, ${p}attempts, ${p}next_attempt_at, ${p}status, ${p}last_error, ${p}first_failed_at, ${p}created_at, ${p}delivered_at`;
const COLUMNS = columns();

/** SQL over the `deliveries` outbox: written by subscribers, worked by DeliveryWorker. */
export const deliverySql = {
  /** Enqueues once: a second enqueue of the same (kind, target or endpoint, source event) is ignored. Returns whether it was new. */
  async enqueue(tx: Sql, d: NewDelivery, now: Date): Promise<boolean> {
    const rows = await tx.query(
      `INSERT INTO deliveries (kind, merchant_id, target, endpoint_id, payload, source_event_id, event_name,
         next_attempt_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $8)
       ON CONFLICT DO NOTHING RETURNING id`,
      [d.kind, d.merchantId, d.target, d.endpointId ?? null, JSON.stringify(d.payload), d.sourceEventId, d.eventName, now],
    );
    return rows.length > 0;
  },

  /**
   * Claims up to `limit` due deliveries for one attempt each: counts the attempt and moves
   * `next_attempt_at` to `claimUntil`, in one statement. Rows another worker is claiming
   * are skipped, not waited for. No lock outlives the statement: a transaction held open
   * across a network call would hold back every gap-safe reader of the event log.
   */
  async claimDue(sql: Sql, now: Date, claimUntil: Date, limit: number): Promise<ClaimedDelivery[]> {
    const rows = await sql.query(
      `UPDATE deliveries d SET attempts = d.attempts + 1, next_attempt_at = $2, updated_at = $1
       FROM (SELECT x.id, e.url AS endpoint_url, e.secret AS endpoint_secret, e.active AS endpoint_active
             FROM deliveries x LEFT JOIN webhook_endpoints e ON e.id = x.endpoint_id
             WHERE x.status = 'pending' AND x.next_attempt_at <= $1
             ORDER BY x.next_attempt_at, x.id LIMIT $3 FOR UPDATE OF x SKIP LOCKED) due
       WHERE d.id = due.id
       RETURNING ${columns('d.')}, due.endpoint_url, due.endpoint_secret, due.endpoint_active`,
      [now, claimUntil, limit],
    );
    return rows.map((r) => claimedRow.parse(r));
  },

  async markDelivered(sql: Sql, id: number, now: Date): Promise<void> {
    await sql.query(
      `UPDATE deliveries SET status = 'delivered', delivered_at = $2, last_error = NULL, updated_at = $2
       WHERE id = $1 AND status = 'pending'`,
      [id, now],
    );
  },

  async markCancelled(sql: Sql, id: number, reason: string, now: Date): Promise<void> {
    await sql.query(`UPDATE deliveries SET status = 'cancelled', last_error = $2, updated_at = $3 WHERE id = $1 AND status = 'pending'`, [
      id,
      reason.slice(0, 2000),
      now,
    ]);
  },

  /** Records a failed attempt and when to try again. */
  async reschedule(sql: Sql, id: number, error: string, at: Date, now: Date): Promise<void> {
    await sql.query(
      `UPDATE deliveries SET next_attempt_at = $3, last_error = $2, first_failed_at = COALESCE(first_failed_at, $4), updated_at = $4
       WHERE id = $1 AND status = 'pending'`,
      [id, error.slice(0, 2000), at, now],
    );
  },

  /** Gives up on a delivery after its last attempt; answers false if it was no longer pending. */
  async park(tx: Sql, id: number, error: string, now: Date): Promise<boolean> {
    const rows = await tx.query(
      `UPDATE deliveries SET status = 'parked', last_error = $2, first_failed_at = COALESCE(first_failed_at, $3), updated_at = $3
       WHERE id = $1 AND status = 'pending' RETURNING id`,
      [id, error.slice(0, 2000), now],
    );
    return rows.length > 0;
  },

  /** Puts the parked deliveries of one kind for one source event back in the queue, with fresh attempts. */
  async requeueParked(tx: Sql, kind: DeliveryKind, sourceEventId: string, now: Date): Promise<number> {
    const rows = await tx.query(
      `UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = $3, first_failed_at = NULL, updated_at = $3
       WHERE kind = $1 AND source_event_id = $2 AND status = 'parked' RETURNING id`,
      [kind, sourceEventId, now],
    );
    return rows.length;
  },

  /** Drops what an endpoint still had queued (the endpoint was removed). */
  async cancelPendingForEndpoint(tx: Sql, endpointId: number, now: Date): Promise<void> {
    await tx.query(
      `UPDATE deliveries SET status = 'cancelled', last_error = 'endpoint removed', updated_at = $2
       WHERE endpoint_id = $1 AND status = 'pending'`,
      [endpointId, now],
    );
  },

  /**
   * Takes an operator's retry request of a delivery dead letter: marks it retried and
   * answers true, once, even when several workers see the request at the same time.
   */
  async takeRetryRequest(tx: Sql, deadLetterId: number, now: Date): Promise<boolean> {
    const rows = await tx.query(
      `UPDATE dead_letters SET status = 'retried', resolved_at = $2 WHERE id = $1 AND status = 'retry_requested' RETURNING id`,
      [deadLetterId, now],
    );
    return rows.length > 0;
  },

  async get(sql: Sql, id: number): Promise<Delivery | null> {
    const [row] = await sql.query(`SELECT ${COLUMNS} FROM deliveries WHERE id = $1`, [id]);
    return row ? deliveryRow.parse(row) : null;
  },

  /** One endpoint's deliveries, newest first, before the id `beforeId` when given. */
  async listForEndpoint(sql: Sql, endpointId: number, page: { beforeId?: number | undefined; limit: number }): Promise<Delivery[]> {
    const rows = await sql.query(
      `SELECT ${COLUMNS} FROM deliveries WHERE endpoint_id = $1 AND ($2::bigint IS NULL OR id < $2)
       ORDER BY id DESC LIMIT $3`,
      [endpointId, page.beforeId ?? null, page.limit],
    );
    return rows.map((r) => deliveryRow.parse(r));
  },

  async listBySource(sql: Sql, sourceEventId: string, kind?: DeliveryKind): Promise<Delivery[]> {
    const rows = await sql.query(
      `SELECT ${COLUMNS} FROM deliveries WHERE source_event_id = $1 AND ($2::text IS NULL OR kind = $2) ORDER BY id`,
      [sourceEventId, kind ?? null],
    );
    return rows.map((r) => deliveryRow.parse(r));
  },
};
