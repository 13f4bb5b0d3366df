import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CatalogStore, TenancyStore } from '../../store/index.js';
import { accessOf, requireStore } from '../auth.js';
import { requestContext } from '../request-context.js';
import { id, storeParams } from '../schemas.js';

const productChange = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    price_minor: z.number().int().min(0).max(100_000_000).optional(),
    active: z.boolean().optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one of name, price_minor, active');

/** Staff read the catalog; managers and owners change it (each change appends ProductUpdated). */
export async function catalogRoutes(app: FastifyInstance, deps: { catalog: CatalogStore; tenancy: TenancyStore }) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/api/stores/:storeId/products', {
    schema: { params: storeParams, tags: ['catalog'], summary: 'All products of a store, active or not' },
    preHandler: requireStore(deps.tenancy, 'order.view'),
  }, async (request) => ({ products: await deps.catalog.list(accessOf(request).storeId, { activeOnly: false }) }));

  r.patch('/api/stores/:storeId/products/:productId', {
    schema: { params: storeParams.extend({ productId: id }), body: productChange, tags: ['catalog'], summary: 'Change a product' },
    preHandler: requireStore(deps.tenancy, 'catalog.manage'),
  }, async (request) => {
    const access = accessOf(request);
    const { name, price_minor, active } = request.body;
    const { product } = await deps.catalog.update(
      access.storeId,
      request.params.productId,
      { name, priceMinor: price_minor, active },
      { ...requestContext(request), userId: access.userId, role: access.role },
    );
    return { product };
  });
}
