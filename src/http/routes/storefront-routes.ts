import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../shared/index.js';
import type { CatalogStore, OrderStore } from '../../store/index.js';
import { requestContext } from '../request-context.js';
import { checkoutBody, publicIdParams, storeParams } from '../schemas.js';

const checkoutHeaders = z
  .object({ 'idempotency-key': z.string().regex(/^[A-Za-z0-9_.:-]{8,128}$/, '8–128 characters of [A-Za-z0-9_.:-]').optional() })
  .passthrough();

/** Public, no sign-in: the storefront catalog, checkout and order tracking by public id. */
export async function storefrontRoutes(
  app: FastifyInstance,
  deps: { orders: OrderStore; catalog: CatalogStore; checkoutRateLimit: { max: number; timeWindow: number } },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/api/stores/:storeId/storefront', {
    schema: { params: storeParams, tags: ['storefront'], summary: 'Active products and shipping methods of a store' },
  }, async (request) => {
    const front = await deps.catalog.storefront(request.params.storeId);
    if (!front) throw new AppError('NOT_FOUND', { resource: 'store' });
    return front;
  });

  r.post('/api/stores/:storeId/checkout', {
    schema: { params: storeParams, body: checkoutBody, headers: checkoutHeaders, tags: ['storefront'], summary: 'Place an order' },
    config: { rateLimit: deps.checkoutRateLimit },
  }, async (request, reply) => {
    const { order, created } = await deps.orders.checkout(request.params.storeId, request.body, {
      ...requestContext(request),
      idempotencyKey: request.headers['idempotency-key'],
    });
    reply.code(created ? 201 : 200);
    if (!created) reply.header('idempotent-replayed', 'true');
    return { order: { public_id: order.public_id, status: order.status, total_minor: order.total_minor, currency: order.currency, version: order.version }, tracking_url: `/track/${order.public_id}` };
  });

  r.get('/api/track/:publicId', {
    schema: { params: publicIdParams, tags: ['tracking'], summary: 'An order as its customer sees it' },
  }, async (request) => {
    const found = await deps.orders.getByPublicId(request.params.publicId);
    if (!found) throw new AppError('ORDER_NOT_FOUND');
    return { order: found.tracking };
  });
}
