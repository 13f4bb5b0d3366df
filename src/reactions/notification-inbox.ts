import { z } from 'zod';
import type { Sql } from '../store/index.js';

const notificationRow = z.object({
  id: z.coerce.number(),
  merchant_id: z.coerce.number(),
  store_id: z.coerce.number().nullable(),
  kind: z.string(),
  title: z.string(),
  body: z.string(),
  link: z.string().nullable(),
  source_event_id: z.string(),
  created_at: z.coerce.date(),
  read_at: z.coerce.date().nullable(),
});
export type NotificationRecord = z.infer<typeof notificationRow>;

export interface NewNotification {
  merchantId: number;
  storeId: number | null;
  kind: string;
  title: string;
  body: string;
  link: string | null;
  sourceEventId: string;
}

const COLUMNS = 'id, merchant_id, store_id, kind, title, body, link, source_event_id::text AS source_event_id, created_at, read_at';

/**
 * In-app notifications, one row per recipient. Every read and change is keyed by the
 * recipient's user id, so nobody reaches another user's notifications; a row that is not
 * yours answers exactly like one that does not exist.
 */
export const notificationInbox = {
  /** Adds one notification for each user, once per (user, source event, kind); returns the users who got a new one. */
  async add(tx: Sql, n: NewNotification, userIds: readonly number[], now: Date): Promise<number[]> {
    const rows = await tx.query(
      `INSERT INTO notifications (merchant_id, store_id, user_id, kind, title, body, link, source_event_id, created_at)
       SELECT $1, $2, u, $3, $4, $5, $6, $7, $8 FROM unnest($9::bigint[]) AS u
       ON CONFLICT (user_id, source_event_id, kind) DO NOTHING RETURNING user_id`,
      [n.merchantId, n.storeId, n.kind, n.title, n.body, n.link, n.sourceEventId, now, userIds],
    );
    return rows.map((r) => Number(r.user_id)).sort((a, b) => a - b);
  },

  /** Newest first; `beforeId` pages back. */
  async list(sql: Sql, userId: number, page: { beforeId?: number | undefined; limit: number; unreadOnly: boolean }): Promise<NotificationRecord[]> {
    const rows = await sql.query(
      `SELECT ${COLUMNS} FROM notifications
       WHERE user_id = $1 AND ($2::bigint IS NULL OR id < $2) AND (NOT $3::boolean OR read_at IS NULL)
       ORDER BY id DESC LIMIT $4`,
      [userId, page.beforeId ?? null, page.unreadOnly, page.limit],
    );
    return rows.map((r) => notificationRow.parse(r));
  },

  async unreadCount(sql: Sql, userId: number): Promise<number> {
    const [row] = await sql.query('SELECT count(*)::int AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL', [userId]);
    return Number(row?.n ?? 0);
  },

  /** Marks one of the user's notifications read or unread; null when the user has no such notification. */
  async setRead(sql: Sql, userId: number, id: number, read: boolean, now: Date): Promise<NotificationRecord | null> {
    const [row] = await sql.query(
      `UPDATE notifications SET read_at = CASE WHEN $3::boolean THEN COALESCE(read_at, $4) END
       WHERE id = $1 AND user_id = $2 RETURNING ${COLUMNS}`,
      [id, userId, read, now],
    );
    return row ? notificationRow.parse(row) : null;
  },

  async markAllRead(sql: Sql, userId: number, now: Date): Promise<number> {
    const rows = await sql.query('UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL RETURNING id', [userId, now]);
    return rows.length;
  },
};
