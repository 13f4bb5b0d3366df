import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  notificationInbox,
  notificationSettingsChange,
  notificationSettingsSql,
  type NotificationRecord,
} from '../../reactions/index.js';
import { AppError, type Clock } from '../../shared/index.js';
import { audit, type Database, type TenancyStore } from '../../store/index.js';
import { principalOf } from '../auth.js';
import { merchantOwnerOf } from '../merchant-owner.js';
import { requestContext } from '../request-context.js';
import { id } from '../schemas.js';

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  before: id.optional(),
  unread: z.enum(['true', 'false']).transform((v) => v === 'true').default(false),
});

const view = (n: NotificationRecord) => ({
  id: n.id,
  store_id: n.store_id,
  kind: n.kind,
  title: n.title,
  body: n.body,
  link: n.link,
  created_at: n.created_at.toISOString(),
  read_at: n.read_at?.toISOString() ?? null,
});

/**
 * The signed-in user's in-app notifications, and the merchant's notification settings
 * (owners). Every query is keyed by the caller's own user id: another user's notification
 * answers NOTIFICATION_NOT_FOUND exactly like a missing one.
 */
export async function notificationRoutes(app: FastifyInstance, deps: { db: Database; clock: Clock; tenancy: TenancyStore }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { db, clock } = deps;

  r.get('/api/notifications', {
    schema: { querystring: listQuery, tags: ['notifications'], summary: 'Your notifications, newest first, with the unread count' },
  }, async (request) => {
    const { userId } = principalOf(request);
    const q = request.query;
    const [list, unread] = await Promise.all([
      notificationInbox.list(db, userId, { beforeId: q.before, limit: q.limit, unreadOnly: q.unread }),
      notificationInbox.unreadCount(db, userId),
    ]);
    return { notifications: list.map(view), unread_count: unread, next_before: list.length === q.limit ? (list.at(-1)?.id ?? null) : null };
  });

  r.patch('/api/notifications/:id', {
    schema: { params: z.object({ id }), body: z.object({ read: z.boolean() }).strict(), tags: ['notifications'], summary: 'Mark one notification read or unread' },
  }, async (request) => {
    const { userId } = principalOf(request);
    const n = await notificationInbox.setRead(db, userId, request.params.id, request.body.read, clock.now());
    if (!n) throw new AppError('NOTIFICATION_NOT_FOUND');
    return { notification: view(n), unread_count: await notificationInbox.unreadCount(db, userId) };
  });

  r.post('/api/notifications/read-all', { schema: { tags: ['notifications'], summary: 'Mark all your notifications read' } }, async (request) => {
    const { userId } = principalOf(request);
    return { marked: await notificationInbox.markAllRead(db, userId, clock.now()), unread_count: 0 };
  });

  r.get('/api/notification-settings', { schema: { tags: ['notifications'], summary: "The merchant's email notification settings" } }, async (request) => {
    const { merchantId } = await merchantOwnerOf(request, deps.tenancy);
    return { settings: await notificationSettingsSql.load(db, merchantId) };
  });

  r.patch('/api/notification-settings', {
    schema: { body: notificationSettingsChange, tags: ['notifications'], summary: 'Change which events send which email' },
  }, async (request) => {
    const { userId, merchantId } = await merchantOwnerOf(request, deps.tenancy);
    const settings = await db.transaction(async (tx) => {
      const next = await notificationSettingsSql.update(tx, merchantId, request.body, clock.now());
      await audit(tx, {
        merchantId, storeId: null, userId, entity: 'notification_settings', entityId: merchantId,
        action: 'notification_settings_changed', meta: { change: request.body }, requestId: requestContext(request).requestId,
      });
      return next;
    });
    return { settings };
  });
}
