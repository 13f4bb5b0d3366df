import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  WEBHOOK_EVENT_TYPES,
  deliverySql,
  namesReservedHost,
  newWebhookSecret,
  reservedResolution,
  webhookEndpointSql,
  type Delivery,
  type WebhookEndpoint,
} from '../../reactions/index.js';
import { AppError, type Clock } from '../../shared/index.js';
import { audit, type Database, type TenancyStore } from '../../store/index.js';
import { merchantOwnerOf } from '../merchant-owner.js';
import { requestContext } from '../request-context.js';
import { id } from '../schemas.js';

/** http(s) only, and no user:password@ (credentials in a URL end up in logs and screens). */
const endpointUrl = z
  .string()
  .trim()
  .max(2000)
  .superRefine((s, ctx) => {
    const url = URL.canParse(s) ? new URL(s) : null;
    if (!url) ctx.addIssue({ code: 'custom', message: 'not a URL' });
    else if (url.protocol !== 'https:' && url.protocol !== 'http:') ctx.addIssue({ code: 'custom', message: 'must be an http:// or https:// URL' });
    else if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must not carry credentials' });
  });

const createBody = z
  .object({
    url: endpointUrl,
    event_types: z.array(z.enum(WEBHOOK_EVENT_TYPES as [string, ...string[]])).min(1).max(WEBHOOK_EVENT_TYPES.length),
    description: z.string().trim().max(200).optional(),
  })
  .strict();
const endpointParams = z.object({ id });
const deliveriesQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(20), before: id.optional() });

const endpointView = (e: WebhookEndpoint) => ({
  id: e.id,
  url: e.url,
  event_types: e.event_types,
  description: e.description,
  active: e.active,
  created_at: e.created_at.toISOString(),
});

const deliveryView = (d: Delivery) => ({
  id: d.id,
  event: d.event_name,
  event_id: d.source_event_id,
  status: d.status,
  attempts: d.attempts,
  next_attempt_at: d.status === 'pending' ? d.next_attempt_at.toISOString() : null,
  last_error: d.last_error,
  created_at: d.created_at.toISOString(),
  delivered_at: d.delivered_at?.toISOString() ?? null,
});

/**
 * A merchant's webhook endpoints, managed by an owner of one of its stores. The signing
 * secret is answered once, on creation. Another merchant's endpoint answers
 * WEBHOOK_ENDPOINT_NOT_FOUND exactly like a missing one.
 */
export async function webhookEndpointRoutes(
  app: FastifyInstance,
  deps: { db: Database; clock: Clock; tenancy: TenancyStore; allowPrivateTargets: boolean },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { db, clock } = deps;

  async function refusePrivateTarget(raw: string): Promise<void> {
    if (deps.allowPrivateTargets) return;
    const url = new URL(raw);
    // A host that does not resolve (yet, or within 2 s) is let through: the worker checks
    // again before each call.
    const reserved = namesReservedHost(url)
      ? url.hostname
      : await reservedResolution(url.hostname, AbortSignal.timeout(2_000)).catch(() => null);
    if (reserved) throw new AppError('WEBHOOK_URL_FORBIDDEN', { host: url.hostname });
  }

  async function ownEndpoint(merchantId: number, endpointId: number): Promise<WebhookEndpoint> {
    const endpoint = await webhookEndpointSql.get(db, merchantId, endpointId);
    if (!endpoint) throw new AppError('WEBHOOK_ENDPOINT_NOT_FOUND');
    return endpoint;
  }

  r.post('/api/webhook-endpoints', {
    schema: { body: createBody, tags: ['webhooks'], summary: 'Add a webhook endpoint; answers its signing secret once' },
  }, async (request, reply) => {
    const { userId, merchantId } = await merchantOwnerOf(request, deps.tenancy);
    const b = request.body;
    await refusePrivateTarget(b.url);
    const secret = newWebhookSecret();
    const endpoint = await db.transaction(async (tx) => {
      const created = await webhookEndpointSql.create(
        tx,
        { merchantId, url: b.url, secret, eventTypes: b.event_types, description: b.description || null },
        clock.now(),
      );
      if (!created) throw new AppError('WEBHOOK_ENDPOINT_LIMIT');
      await audit(tx, {
        merchantId, storeId: null, userId, entity: 'webhook_endpoint', entityId: created.id, action: 'webhook_endpoint_created',
        meta: { url: created.url, event_types: created.event_types }, requestId: requestContext(request).requestId,
      });
      return created;
    });
    return reply.code(201).send({ endpoint: endpointView(endpoint), secret });
  });

  r.get('/api/webhook-endpoints', { schema: { tags: ['webhooks'], summary: "The merchant's active webhook endpoints" } }, async (request) => {
    const { merchantId } = await merchantOwnerOf(request, deps.tenancy);
    return { endpoints: (await webhookEndpointSql.list(db, merchantId)).map(endpointView) };
  });

  r.delete('/api/webhook-endpoints/:id', {
    schema: { params: endpointParams, tags: ['webhooks'], summary: 'Remove an endpoint; what it still had queued is dropped' },
  }, async (request, reply) => {
    const { userId, merchantId } = await merchantOwnerOf(request, deps.tenancy);
    const endpointId = request.params.id;
    const removed = await db.transaction(async (tx) => {
      const now = clock.now();
      if (!(await webhookEndpointSql.remove(tx, merchantId, endpointId, now))) return false;
      await deliverySql.cancelPendingForEndpoint(tx, endpointId, now);
      await audit(tx, {
        merchantId, storeId: null, userId, entity: 'webhook_endpoint', entityId: endpointId, action: 'webhook_endpoint_removed',
        meta: {}, requestId: requestContext(request).requestId,
      });
      return true;
    });
    if (!removed) throw new AppError('WEBHOOK_ENDPOINT_NOT_FOUND');
    return reply.code(204).send();
  });

  r.get('/api/webhook-endpoints/:id/deliveries', {
    schema: { params: endpointParams, querystring: deliveriesQuery, tags: ['webhooks'], summary: "An endpoint's deliveries, newest first" },
  }, async (request) => {
    const { merchantId } = await merchantOwnerOf(request, deps.tenancy);
    const endpoint = await ownEndpoint(merchantId, request.params.id);
    const q = request.query;
    const list = await deliverySql.listForEndpoint(db, endpoint.id, { beforeId: q.before, limit: q.limit });
    return { deliveries: list.map(deliveryView), next_before: list.length === q.limit ? (list.at(-1)?.id ?? null) : null };
  });
}
