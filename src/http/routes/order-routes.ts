import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ORDER_STATUSES, type OrderCommand, type OrderStatus } from '../../domain/index.js';
import { AppError } from '../../shared/index.js';
import { ACTIVE_STATUSES, type OrderStore, type TenancyStore } from '../../store/index.js';
import { accessOf, requireStore } from '../auth.js';
import { requestContext } from '../request-context.js';
import { ifMatchHeaders, orderParams, overrideBody, reasonBody, shipBody, statusBody, storeParams } from '../schemas.js';

const IF_MATCH = /^(?:W\/)?"?(\d{1,9})"?$/;

/** The version a command was decided against: body `version` wins, else If-Match. */
function expectedVersion(request: FastifyRequest, bodyVersion: number | undefined): number {
  if (bodyVersion !== undefined) return bodyVersion;
  const header = request.headers['if-match'];
  if (header === undefined) throw new AppError('ORDER_VERSION_REQUIRED');
  const m = IF_MATCH.exec(String(header).trim());
  if (!m) throw new AppError('VALIDATION_FAILED', { field: 'If-Match', issue: 'expected a quoted order version, e.g. "3"' });
  return Number(m[1]);
}

const callerKey = (request: FastifyRequest) =>
  request.headers.authorization ?? request.headers.cookie?.match(/sf_session=([^;]+)/)?.[1] ?? request.ip;

const listQuery = z.object({
  status: z
    .string()
    .max(200)
    .optional()
    .transform((s, ctx) => {
      if (!s) return [...ACTIVE_STATUSES];
      const wanted = s.split(',').map((x) => x.trim());
      const bad = wanted.filter((x) => !(ORDER_STATUSES as readonly string[]).includes(x));
      if (bad.length) ctx.addIssue({ code: 'custom', message: `unknown status: ${bad.join(', ')}` });
      return wanted as OrderStatus[];
    }),
  limit: z.coerce.number().int().min(1).max(500).default(200),
});

/** Staff endpoints for one store's orders: the board query, one order, and every command. */
export async function orderRoutes(
  app: FastifyInstance,
  deps: { orders: OrderStore; tenancy: TenancyStore; commandRateLimit: { max: number; timeWindow: number } },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const view = requireStore(deps.tenancy, 'order.view');

  r.get('/api/stores/:storeId/orders', {
    schema: { params: storeParams, querystring: listQuery, tags: ['orders'], summary: 'Orders of a store by status (the board)' },
    preHandler: view,
  }, async (request) => {
    const { storeId } = accessOf(request);
    return { orders: await deps.orders.list(storeId, request.query.status, request.query.limit) };
  });

  r.get('/api/stores/:storeId/orders/:orderId', {
    schema: { params: orderParams, tags: ['orders'], summary: 'One order' },
    preHandler: view,
  }, async (request, reply) => {
    const order = await deps.orders.get(accessOf(request).storeId, request.params.orderId);
    if (!order) throw new AppError('ORDER_NOT_FOUND');
    reply.header('etag', `"${order.version}"`);
    return { order };
  });

  /** Runs one command; role checks beyond "may view" happen in the domain decider. */
  async function run(
    request: FastifyRequest,
    reply: FastifyReply,
    orderId: number,
    version: number | undefined,
    command: OrderCommand,
  ) {
    const access = accessOf(request);
    const expected = expectedVersion(request, version);
    const { order } = await deps.orders.execute(access.storeId, orderId, expected, command, {
      ...requestContext(request),
      actor: { userId: access.userId, role: access.role },
    });
    reply.header('etag', `"${order.version}"`);
    return { order };
  }

  const commandSchema = <B extends z.ZodType>(body: B, summary: string) => ({
    schema: { params: orderParams, body, headers: ifMatchHeaders, tags: ['orders'], summary },
    preHandler: view,
    // Per caller, not per address: a busy counter tablet behind one NAT is many people (seed 000 §22).
    config: { rateLimit: { ...deps.commandRateLimit, keyGenerator: callerKey } },
  });

  r.patch('/api/stores/:storeId/orders/:orderId/status', commandSchema(statusBody, 'Move an order to its next status'), async (request, reply) => {
    const b = request.body;
    return run(request, reply, request.params.orderId, b.version, {
      type: 'ChangeStatus', to: b.status, reason: b.reason, trackingCode: b.tracking_code, trackingUrl: b.tracking_url,
    });
  });

  r.post('/api/stores/:storeId/orders/:orderId/ship', commandSchema(shipBody, 'Hand a shipping order to the carrier'), async (request, reply) => {
    const b = request.body;
    return run(request, reply, request.params.orderId, b.version, {
      type: 'ChangeStatus', to: 'shipped', trackingCode: b.tracking_code, trackingUrl: b.tracking_url,
    });
  });

  for (const [path, to] of [['cancel', 'cancelled'], ['reject', 'rejected']] as const) {
    r.post(`/api/stores/:storeId/orders/:orderId/${path}`, commandSchema(reasonBody, `${path} an order (manager or owner, reason required)`), async (request, reply) => {
      return run(request, reply, request.params.orderId, request.body.version, {
        type: 'ChangeStatus', to, reason: request.body.reason,
      });
    });
  }

  r.post('/api/stores/:storeId/orders/:orderId/override', commandSchema(overrideBody, 'Owner override to any status (reason required)'), async (request, reply) => {
    const b = request.body;
    return run(request, reply, request.params.orderId, b.version, {
      type: 'OverrideStatus', to: b.status, reason: b.reason ?? '', trackingCode: b.tracking_code, trackingUrl: b.tracking_url,
    });
  });

}
