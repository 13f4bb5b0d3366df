import { describe, expect, it } from 'vitest';
import { decideProductChange, type Product, type ProductChange } from '../../../src/domain/index.js';
import { T0 } from '../../support/order-fixtures.js';
import { itEach } from '../../support/it-each.js';

const product = (overrides: Partial<Product> = {}): Product =>
  Object.freeze({ id: 8, storeId: 77, name: 'Croissant', priceMinor: 275, currency: 'EUR', active: true, version: 3, ...overrides });

describe('decideProductChange', () => {
  itEach<{ label: string; change: ProductChange }>([
    { label: 'an empty change', change: {} },
    { label: 'the same values', change: { name: 'Croissant', priceMinor: 275, active: true } },
    { label: 'only undefined fields', change: { name: undefined, priceMinor: undefined, active: undefined } },
  ])('emits no event and keeps the version for $label', ({ change }) => {
    const before = product();
    const { product: after, event } = decideProductChange(before, change, T0);
    expect(event).toBeNull();
    expect(after).toEqual(before);
    expect(after.version).toBe(3);
  });

  it('renames a product: version + 1, only the name listed as changed', () => {
    const { product: after, event } = decideProductChange(product(), { name: 'Pain au chocolat' }, T0);
    expect(after).toEqual(product({ name: 'Pain au chocolat', version: 4 }));
    expect(event).toEqual({
      product_id: 8,
      store_id: 77,
      name: 'Pain au chocolat',
      price_minor: 275,
      currency: 'EUR',
      active: true,
      changed: ['name'],
      timestamp: T0.toISOString(),
      version: 4,
    });
  });

  it('names a price change price_minor, as on the wire', () => {
    const { event } = decideProductChange(product(), { priceMinor: 300 }, T0);
    expect(event).toMatchObject({ changed: ['price_minor'], price_minor: 300, version: 4 });
  });

  it('lists only the fields whose value actually changes', () => {
    const { event } = decideProductChange(product(), { name: 'Croissant', priceMinor: 300, active: false }, T0);
    expect(event?.changed).toEqual(['price_minor', 'active']);
    expect(event).toMatchObject({ name: 'Croissant', price_minor: 300, active: false });
  });

  it('lists every changed field in a fixed order: name, price_minor, active', () => {
    const { product: after, event } = decideProductChange(product(), { active: false, priceMinor: 1, name: 'X' }, T0);
    expect(event?.changed).toEqual(['name', 'price_minor', 'active']);
    expect(after.version).toBe(4);
  });

  it('leaves the product it was given untouched', () => {
    const before = product();
    decideProductChange(before, { name: 'Other', active: false }, T0);
    expect(before).toEqual(product());
  });

  it('applies a second identical change as a no-op, so a repeated PATCH is idempotent', () => {
    const first = decideProductChange(product(), { active: false }, T0);
    const second = decideProductChange(first.product, { active: false }, T0);
    expect(second).toEqual({ product: first.product, event: null });
  });
});
