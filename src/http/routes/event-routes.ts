import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { CUSTOMER_EVENT_NAMES, orderStream, parseCheckpoint, toCustomerEvent, type StoredEvent } from '../../events/index.js';
import { AppError } from '../../shared/index.js';
import type { Database, EventLog, OrderStore, TenancyStore } from '../../store/index.js';
import { accessOf, requireStore } from '../auth.js';
import { eventsQuery, publicIdParams, storeParams } from '../schemas.js';

/** The page shape of every catch-up read: resume with `after=next` until has_more is false. */
function page<T>(events: T[], lastCheckpoint: string | undefined, after: string, limit: number) {
  return { events, next: lastCheckpoint ?? after, has_more: events.length === limit };
}

/**
 * Catch-up reads: what a client missed after the last checkpoint it saw. Gap-safe, so a
 * client that keeps reading from `next` gets every event exactly once, in log order.
 */
export async function eventRoutes(
  app: FastifyInstance,
  deps: { db: Database; log: EventLog; orders: OrderStore; tenancy: TenancyStore },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/api/stores/:storeId/events', {
    schema: { params: storeParams, querystring: eventsQuery, tags: ['events'], summary: "A store's events after a checkpoint" },
    preHandler: requireStore(deps.tenancy, 'events.read'),
  }, async (request) => {
    const { after = '0.0', limit } = request.query;
    const events = await deps.log.readAfter(deps.db, parseCheckpoint(after), { storeId: accessOf(request).storeId, limit });
    return page(events.map(staffEvent), events.at(-1)?.checkpoint, after, limit);
  });

  r.get('/api/track/:publicId/events', {
    schema: { params: publicIdParams, querystring: eventsQuery, tags: ['tracking'], summary: "A customer's order updates after a checkpoint" },
  }, async (request) => {
    const { after = '0.0', limit } = request.query;
    const checkpoint = parseCheckpoint(after);
    const found = await deps.orders.getByPublicId(request.params.publicId);
    if (!found) throw new AppError('ORDER_NOT_FOUND');
    const events = await deps.log.readAfter(deps.db, checkpoint, {
      stream: orderStream(found.order.id),
      names: CUSTOMER_EVENT_NAMES,
      limit,
    });
    return page(events.flatMap((e) => toCustomerEvent(e) ?? []), events.at(-1)?.checkpoint, after, limit);
  });
}

function staffEvent(e: StoredEvent) {
  return {
    id: e.id,
    name: e.name,
    version: e.version,
    stream: e.stream,
    stream_version: e.stream_version,
    timestamp: e.timestamp,
    position: e.position,
    checkpoint: e.checkpoint,
    metadata: e.metadata,
    payload: e.payload,
  };
}
