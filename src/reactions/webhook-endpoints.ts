import { z } from 'zod';
import { EVENT_CATALOGUE } from '../events/index.js';
import type { Sql } from '../store/index.js';

/**
 * The event types a merchant's webhook may subscribe to: every catalogue event except the
 * internal notification events (they name staff user ids and exist for our own screens).
 */
export const WEBHOOK_EVENT_TYPES: readonly string[] = [...EVENT_CATALOGUE.values()]
  .filter((t) => t.category !== 'notification')
  .map((t) => t.name);

/** Active endpoints a merchant may hold at once. */
export const MAX_ENDPOINTS_PER_MERCHANT = 20;

const endpointRow = z.object({
  id: z.coerce.number(),
  merchant_id: z.coerce.number(),
  url: z.string(),
  event_types: z.array(z.string()),
  description: z.string().nullable(),
  active: z.boolean(),
  created_at: z.coerce.date(),
});
/** An endpoint as its owner sees it: never the secret. */
export type WebhookEndpoint = z.infer<typeof endpointRow>;

const COLUMNS = 'id, merchant_id, url, event_types, description, active, created_at';

/** SQL over `webhook_endpoints`. Every call is scoped to one merchant: another merchant's id finds nothing. */
export const webhookEndpointSql = {
  /** Creates an endpoint unless the merchant already has the maximum; null then. */
  async create(
    tx: Sql,
    e: { merchantId: number; url: string; secret: string; eventTypes: readonly string[]; description: string | null },
    now: Date,
  ): Promise<WebhookEndpoint | null> {
    // Serialises creations per merchant so two at once cannot both pass the limit. (NO KEY:
    // checkouts take KEY SHARE on the merchant row and must not wait for this.)
    await tx.query('SELECT id FROM merchants WHERE id = $1 FOR NO KEY UPDATE', [e.merchantId]);
    const [count] = await tx.query('SELECT count(*)::int AS n FROM webhook_endpoints WHERE merchant_id = $1 AND active', [e.merchantId]);
    if (Number(count?.n ?? 0) >= MAX_ENDPOINTS_PER_MERCHANT) return null;
    const [row] = await tx.query(
      `INSERT INTO webhook_endpoints (merchant_id, url, secret, event_types, description, created_at)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [e.merchantId, e.url, e.secret, [...new Set(e.eventTypes)], e.description, now],
    );
    return endpointRow.parse(row);
  },

  async list(sql: Sql, merchantId: number): Promise<WebhookEndpoint[]> {
    const rows = await sql.query(`SELECT ${COLUMNS} FROM webhook_endpoints WHERE merchant_id = $1 AND active ORDER BY id`, [merchantId]);
    return rows.map((r) => endpointRow.parse(r));
  },

  async get(sql: Sql, merchantId: number, id: number): Promise<WebhookEndpoint | null> {
    const [row] = await sql.query(`SELECT ${COLUMNS} FROM webhook_endpoints WHERE id = $1 AND merchant_id = $2 AND active`, [id, merchantId]);
    return row ? endpointRow.parse(row) : null;
  },

  /** Deactivates an endpoint (its delivery history stays); false when the merchant has no such active endpoint. */
  async remove(tx: Sql, merchantId: number, id: number, now: Date): Promise<boolean> {
    const rows = await tx.query(
      'UPDATE webhook_endpoints SET active = false, removed_at = $3 WHERE id = $1 AND merchant_id = $2 AND active RETURNING id',
      [id, merchantId, now],
    );
    return rows.length > 0;
  },

  /** What the merchant-webhooks subscriber fans an event out to: active endpoints subscribed to its type. */
  async subscribedTo(sql: Sql, merchantId: number, eventName: string): Promise<{ id: number; url: string }[]> {
    const rows = await sql.query(
      'SELECT id, url FROM webhook_endpoints WHERE merchant_id = $1 AND active AND $2 = ANY(event_types) ORDER BY id',
      [merchantId, eventName],
    );
    return rows.map((r) => ({ id: Number(r.id), url: String(r.url) }));
  },
};
