import { z } from 'zod';
import type { Sql } from '../store/index.js';

/**
 * Which events send which email, per merchant. Stored as jsonb; anything missing takes the
 * default here, so a merchant without a row gets sane behaviour and new settings need no
 * migration. Defaults: the store hears of every new order (at its notification_email), the
 * customer hears when the order ships (with its tracking link) or is cancelled/rejected.
 */
const EMAIL_DEFAULTS = { new_order: true, order_shipped: true, order_cancelled: true };
const emailFlag = (key: keyof typeof EMAIL_DEFAULTS) => z.boolean().default(EMAIL_DEFAULTS[key]);

export const notificationSettings = z
  .object({
    email: z
      .object({ new_order: emailFlag('new_order'), order_shipped: emailFlag('order_shipped'), order_cancelled: emailFlag('order_cancelled') })
      .strict()
      .prefault({}),
  })
  .strict();
export type NotificationSettings = z.infer<typeof notificationSettings>;

/** A change from the API: any subset of the settings; what it leaves out stays as it is (no defaults here). */
export const notificationSettingsChange = z
  .object({
    email: z.object({ new_order: z.boolean(), order_shipped: z.boolean(), order_cancelled: z.boolean() }).partial().strict().optional(),
  })
  .strict();
export type NotificationSettingsChange = z.infer<typeof notificationSettingsChange>;

export const notificationSettingsSql = {
  async load(sql: Sql, merchantId: number): Promise<NotificationSettings> {
    const [row] = await sql.query('SELECT settings FROM merchant_notification_settings WHERE merchant_id = $1', [merchantId]);
    return notificationSettings.parse(row?.settings ?? {});
  },

  /** Merges `change` into the stored settings (row-locked, so concurrent changes both land). */
  async update(tx: Sql, merchantId: number, change: NotificationSettingsChange, now: Date): Promise<NotificationSettings> {
    await tx.query(
      `INSERT INTO merchant_notification_settings (merchant_id, settings, updated_at) VALUES ($1, '{}'::jsonb, $2)
       ON CONFLICT (merchant_id) DO NOTHING`,
      [merchantId, now],
    );
    const [row] = await tx.query('SELECT settings FROM merchant_notification_settings WHERE merchant_id = $1 FOR UPDATE', [merchantId]);
    const current = notificationSettings.parse(row?.settings ?? {});
    const next = notificationSettings.parse({ ...current, email: { ...current.email, ...change.email } });
    await tx.query('UPDATE merchant_notification_settings SET settings = $2, updated_at = $3 WHERE merchant_id = $1', [
      merchantId,
      JSON.stringify(next),
      now,
    ]);
    return next;
  },
};
