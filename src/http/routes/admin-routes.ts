import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { EVENT_CATALOGUE, parseCheckpoint } from '../../events/index.js';
import { deadLetterSql, NotReplayable, replaySql, UnknownSubscription, type PipelineAdmin } from '../../pipeline/index.js';
import { AppError } from '../../shared/index.js';
import { audit, type Database, type EventLog, type TenancyStore } from '../../store/index.js';
import { principalOf } from '../auth.js';
import { requestContext } from '../request-context.js';
import { id } from '../schemas.js';

interface OperatorScope {
  userId: number;
  admin: boolean;
  merchantId: number;
  /** undefined for admins (every merchant), else the owner's merchant. */
  only: number | undefined;
}

const nameParams = z.object({ name: z.string().min(1).max(100) });
const idParams = z.object({ id });
const isoDate = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const csv = z.string().max(1000).transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

const eventSearch = z.object({
  after: z.string().max(64).default('0.0'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  name: csv.optional(),
  stream: z.string().max(200).optional(),
  store_id: id.optional(),
  merchant_id: id.optional(),
  correlation_id: z.string().max(128).optional(),
  from: isoDate.optional(),
  until: isoDate.optional(),
});

/**
 * The event monitor API: events, subscriptions and their lag, throughput, dead letters,
 * replays and the event schemas. Owners see their merchant's share; actions that affect
 * every merchant (reset, rebuild, replay, pause) are for platform admins.
 */
export async function adminRoutes(
  app: FastifyInstance,
  deps: { db: Database; log: EventLog; tenancy: TenancyStore; pipelineAdmin: PipelineAdmin },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { pipelineAdmin: admin, db } = deps;

  async function operator(request: FastifyRequest): Promise<OperatorScope> {
    const p = principalOf(request);
    const scope = await deps.tenancy.operatorScope(p.userId);
    if (!scope) throw new AppError('OPERATOR_FORBIDDEN');
    return { userId: p.userId, ...scope, only: scope.admin ? undefined : scope.merchantId };
  }
  async function platformAdmin(request: FastifyRequest): Promise<OperatorScope> {
    const scope = await operator(request);
    if (!scope.admin) throw new AppError('ADMIN_FORBIDDEN');
    return scope;
  }
  const operatorAudit = (request: FastifyRequest, scope: OperatorScope, action: string, entityId: string, meta: object, merchantId?: number | null) =>
    audit(db, {
      merchantId: merchantId ?? scope.only ?? null, storeId: null, userId: scope.userId, entity: 'pipeline',
      entityId, action, meta: { ...meta }, requestId: requestContext(request).requestId,
    });
  const known = (name: string) => {
    if (!admin.names().includes(name)) throw new AppError('SUBSCRIPTION_NOT_FOUND', { subscription: name });
  };

  r.get('/api/admin/events', { schema: { querystring: eventSearch, tags: ['admin'], summary: 'Search the event log' } }, async (request) => {
    const scope = await operator(request);
    const q = request.query;
    const events = await deps.log.readAfter(db, parseCheckpoint(q.after), {
      limit: q.limit,
      ...(q.name ? { names: q.name } : {}),
      ...(q.stream ? { stream: q.stream } : {}),
      ...(q.store_id ? { storeId: q.store_id } : {}),
      ...(q.correlation_id ? { correlationId: q.correlation_id } : {}),
      ...(q.from ? { from: q.from } : {}),
      ...(q.until ? { until: q.until } : {}),
      ...(scope.only !== undefined ? { merchantId: scope.only } : q.merchant_id ? { merchantId: q.merchant_id } : {}),
    });
    return { events, next: events.at(-1)?.checkpoint ?? q.after, has_more: events.length === q.limit };
  });

  r.get('/api/admin/events/throughput', {
    schema: { querystring: z.object({ minutes: z.coerce.number().int().min(1).max(24 * 60).default(60) }), tags: ['admin'], summary: 'Events per minute by type' },
  }, async (request) => {
    const scope = await operator(request);
    return { minutes: request.query.minutes, series: await admin.throughput(request.query.minutes, scope.only) };
  });

  r.get('/api/admin/event-schemas', { schema: { tags: ['admin'], summary: 'Every event type as JSON Schema' } }, async (request) => {
    await operator(request);
    return {
      event_types: [...EVENT_CATALOGUE.values()].map((t) => ({
        name: t.name,
        version: t.version,
        category: t.category,
        schema: z.toJSONSchema(t.schema, { io: 'input' }),
      })),
    };
  });

  r.get('/api/admin/subscriptions', { schema: { tags: ['admin'], summary: 'Subscriptions: checkpoint, lag, state, retries, parked' } }, async (request) => {
    await operator(request);
    return { subscriptions: await admin.status() };
  });

  const resetBody = z.union([z.object({ checkpoint: z.string().max(64) }).strict(), z.object({ time: isoDate }).strict()]);
  r.post('/api/admin/subscriptions/:name/reset', {
    schema: { params: nameParams, body: resetBody, tags: ['admin'], summary: 'Move a subscription to a checkpoint or a point in time' },
  }, async (request) => {
    const scope = await platformAdmin(request);
    known(request.params.name);
    const b = request.body;
    const to = await admin.reset(request.params.name, 'checkpoint' in b ? { checkpoint: parseCheckpoint(b.checkpoint) } : { time: b.time });
    const checkpoint = `${to.transactionId}.${to.position}`;
    await operatorAudit(request, scope, 'subscription_reset', request.params.name, { checkpoint });
    return { subscription: request.params.name, checkpoint };
  });

  r.post('/api/admin/subscriptions/:name/rebuild', {
    schema: { params: nameParams, tags: ['admin'], summary: 'Empty a projection and replay the whole log into it' },
  }, async (request, reply) => {
    const scope = await platformAdmin(request);
    known(request.params.name);
    try {
      await admin.rebuild(request.params.name);
    } catch (e) {
      if (e instanceof UnknownSubscription) throw new AppError('SUBSCRIPTION_NOT_FOUND');
      throw new AppError('SUBSCRIPTION_NOT_REBUILDABLE', { subscription: request.params.name });
    }
    await operatorAudit(request, scope, 'subscription_rebuilt', request.params.name, {});
    return reply.code(202).send({ subscription: request.params.name, status: 'rebuilding' });
  });

  for (const [action, paused] of [['pause', true], ['resume', false]] as const) {
    r.post(`/api/admin/subscriptions/:name/${action}`, { schema: { params: nameParams, tags: ['admin'], summary: `${action} a subscription` } }, async (request) => {
      const scope = await platformAdmin(request);
      known(request.params.name);
      await admin.setPaused(request.params.name, paused);
      await operatorAudit(request, scope, `subscription_${action}d`, request.params.name, {});
      return { subscription: request.params.name, paused };
    });
  }

  const replayBody = z
    .object({ subscription: z.string().min(1).max(100), names: z.array(z.string().max(100)).max(50).optional(), stream: z.string().max(200).optional(), from: isoDate.optional(), until: isoDate.optional() })
    .strict();
  r.post('/api/admin/replays', { schema: { body: replayBody, tags: ['admin'], summary: 'Replay a filtered range of the log to one subscription' } }, async (request, reply) => {
    const scope = await platformAdmin(request);
    known(request.body.subscription);
    const job = await admin.replay({ ...request.body, requestedBy: scope.userId }).catch((e: unknown) => {
      throw e instanceof NotReplayable ? new AppError('SUBSCRIPTION_NOT_REPLAYABLE', { subscription: e.subscription }) : e;
    });
    await operatorAudit(request, scope, 'replay_requested', String(job.id), { ...request.body });
    return reply.code(202).send({ replay: job });
  });
  r.get('/api/admin/replays', { schema: { tags: ['admin'], summary: 'Recent replays with progress' } }, async (request) => {
    await operator(request);
    return { replays: await replaySql.list(db, 50) };
  });
  r.get('/api/admin/replays/:id', { schema: { params: idParams, tags: ['admin'], summary: 'One replay with progress' } }, async (request) => {
    await operator(request);
    const job = await replaySql.get(db, request.params.id);
    if (!job) throw new AppError('REPLAY_NOT_FOUND');
    return { replay: job };
  });

  const letterQuery = z.object({
    status: z.enum(['parked', 'retry_requested', 'retried', 'discarded']).optional(),
    subscription: z.string().max(100).optional(),
    event_name: z.string().max(100).optional(),
    before: id.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  });
  r.get('/api/admin/dead-letters', { schema: { querystring: letterQuery, tags: ['admin'], summary: 'Dead letters, newest first' } }, async (request) => {
    const scope = await operator(request);
    const q = request.query;
    const letters = await deadLetterSql.list(db, {
      limit: q.limit, status: q.status, subscription: q.subscription, eventName: q.event_name, beforeId: q.before, merchantId: scope.only,
    });
    return { dead_letters: letters, next_before: letters.at(-1)?.id ?? null };
  });

  r.post('/api/admin/dead-letters/:id/retry', { schema: { params: idParams, tags: ['admin'], summary: 'Retry one parked event' } }, async (request, reply) => {
    const scope = await operator(request);
    const ids = await deadLetterSql.requestRetry(db, [request.params.id], scope.only);
    if (ids.length === 0) throw new AppError('DEAD_LETTER_NOT_FOUND');
    await operatorAudit(request, scope, 'dead_letter_retry_requested', String(request.params.id), {});
    return reply.code(202).send({ retry_requested: ids });
  });

  r.post('/api/admin/dead-letters/retry-all', { schema: { tags: ['admin'], summary: 'Retry every parked event you can see' } }, async (request, reply) => {
    const scope = await operator(request);
    const ids = await deadLetterSql.requestRetry(db, 'all-parked', scope.only);
    await operatorAudit(request, scope, 'dead_letters_retry_requested', 'all', { count: ids.length });
    return reply.code(202).send({ retry_requested: ids });
  });

  r.post('/api/admin/dead-letters/:id/discard', {
    schema: { params: idParams, body: z.object({ reason: z.string().trim().min(1).max(500) }).strict(), tags: ['admin'], summary: 'Discard a parked event, with a reason' },
  }, async (request) => {
    const scope = await operator(request);
    const letter = await deadLetterSql.discard(db, request.params.id, scope.userId, request.body.reason, scope.only);
    if (!letter) throw new AppError('DEAD_LETTER_NOT_FOUND');
    await operatorAudit(request, scope, 'dead_letter_discarded', String(letter.id), { reason: request.body.reason, event_id: letter.event_id }, letter.merchant_id);
    return { dead_letter: letter };
  });
}
