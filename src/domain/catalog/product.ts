import type { ProductUpdatedData } from './product-events.js';

/** A product as the catalog holds it. Price in minor units of the store currency. */
export interface Product {
  id: number;
  storeId: number;
  name: string;
  priceMinor: number;
  currency: string;
  active: boolean;
  version: number;
}

export type ProductChange = Partial<Pick<Product, 'name' | 'priceMinor' | 'active'>>;

/**
 * Applies a change and says what changed. No event when nothing actually changes, so a
 * repeated PATCH is idempotent in the log as well.
 */
export function decideProductChange(
  product: Product,
  change: ProductChange,
  now: Date,
): { product: Product; event: ProductUpdatedData | null } {
  const next: Product = { ...product, ...stripUndefined(change) };
  const changed = (['name', 'priceMinor', 'active'] as const).filter((k) => next[k] !== product[k]);
  if (changed.length === 0) return { product, event: null };
  next.version = product.version + 1;
  return {
    product: next,
    event: {
      product_id: next.id,
      store_id: next.storeId,
      name: next.name,
      price_minor: next.priceMinor,
      currency: next.currency,
      active: next.active,
      changed: changed.map((k) => (k === 'priceMinor' ? 'price_minor' : k)),
      timestamp: now.toISOString(),
      version: next.version,
    },
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
