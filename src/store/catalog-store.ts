import { z } from 'zod';
import { decideProductChange, type Product, type ProductChange } from '../domain/index.js';
import { ProductUpdated, productStream, type StoredEvent } from '../events/index.js';
import { AppError, type Clock } from '../shared/index.js';
import type { Database } from './db.js';
import type { EventLog } from './event-log.js';
import { audit, eventMetadata, type RequestContext } from './order-store.js';

const productRow = z.object({
  id: z.coerce.number(),
  store_id: z.coerce.number(),
  name: z.string(),
  price_minor: z.coerce.number(),
  currency: z.string(),
  active: z.boolean(),
  version: z.coerce.number(),
});

const toProduct = (r: z.infer<typeof productRow>): Product => ({
  id: r.id,
  storeId: r.store_id,
  name: r.name,
  priceMinor: r.price_minor,
  currency: r.currency,
  active: r.active,
  version: r.version,
});

export const productView = (p: Product) => ({
  id: p.id,
  store_id: p.storeId,
  name: p.name,
  price_minor: p.priceMinor,
  currency: p.currency,
  active: p.active,
  version: p.version,
});
export type ProductView = ReturnType<typeof productView>;

/** Products and shipping methods of a store. A product change appends ProductUpdated. */
export class CatalogStore {
  constructor(
    private readonly db: Database,
    private readonly log: EventLog,
    private readonly clock: Clock,
  ) {}

  async storefront(storeId: number) {
    const [store] = await this.db.query('SELECT id, name, currency FROM stores WHERE id = $1', [storeId]);
    if (!store) return null;
    const products = await this.list(storeId, { activeOnly: true });
    const methods = await this.db.query(
      'SELECT code, name, price_minor FROM shipping_methods WHERE store_id = $1 AND active ORDER BY price_minor, code',
      [storeId],
    );
    return {
      store: { id: Number(store.id), name: String(store.name), currency: String(store.currency) },
      products,
      shipping_methods: methods.map((m) => ({ code: String(m.code), name: String(m.name), price_minor: Number(m.price_minor) })),
    };
  }

  async list(storeId: number, opts: { activeOnly: boolean }): Promise<ProductView[]> {
    const rows = await this.db.query(
      `SELECT * FROM products WHERE store_id = $1 ${opts.activeOnly ? 'AND active' : ''} ORDER BY id`,
      [storeId],
    );
    return rows.map((r) => productView(toProduct(productRow.parse(r))));
  }

  async update(
    storeId: number,
    productId: number,
    change: ProductChange,
    ctx: RequestContext & { userId: number; role: string },
  ): Promise<{ product: ProductView; events: StoredEvent[] }> {
    const result = await this.db.transaction(async (tx) => {
      await this.log.lockForAppend(tx);
      const [raw] = await tx.query('SELECT * FROM products WHERE id = $1 AND store_id = $2 FOR UPDATE', [productId, storeId]);
      if (!raw) throw new AppError('PRODUCT_NOT_FOUND');
      const current = toProduct(productRow.parse(raw));
      const now = this.clock.now();
      const { product, event } = decideProductChange(current, change, now);
      if (!event) return { product: productView(product), events: [] };
      await tx.query('UPDATE products SET name = $2, price_minor = $3, active = $4, version = $5, updated_at = $6 WHERE id = $1', [
        product.id,
        product.name,
        product.priceMinor,
        product.active,
        product.version,
        now,
      ]);
      const [store] = await tx.query('SELECT merchant_id FROM stores WHERE id = $1', [storeId]);
      const merchantId = Number(store?.merchant_id);
      await audit(tx, {
        merchantId, storeId, userId: ctx.userId, entity: 'product', entityId: product.id, action: 'product_updated',
        meta: { changed: event.changed, from_version: current.version, to_version: product.version },
        requestId: ctx.requestId,
      });
      const events = await this.log.append(tx, [
        {
          name: ProductUpdated.name,
          version: ProductUpdated.version,
          stream: productStream(product.id),
          stream_version: product.version,
          payload: event,
          metadata: eventMetadata(merchantId, storeId, { type: 'user', id: ctx.userId, role: ctx.role }, ctx),
        },
      ]);
      return { product: productView(product), events };
    });
    if (result.events.length > 0) this.log.committed();
    return result;
  }
}
