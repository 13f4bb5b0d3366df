import { describe, expect, it } from 'vitest';
import {
  MAX_QUANTITY,
  priceCheckout,
  type Address,
  type CatalogProduct,
  type CheckoutRequest,
  type ShippingMethod,
} from '../../../src/domain/index.js';
import { AppError, type ErrorCode } from '../../../src/shared/index.js';
import { itEach } from '../../support/it-each.js';

const PRODUCTS: CatalogProduct[] = [
  { id: 1, name: 'Flat white', price_minor: 450, currency: 'EUR', active: true },
  { id: 2, name: 'Croissant', price_minor: 275, currency: 'EUR', active: true },
  { id: 3, name: 'Seasonal tart', price_minor: 600, currency: 'EUR', active: false },
  { id: 4, name: 'Imported beans', price_minor: 1999, currency: 'USD', active: true },
];
const METHODS: ShippingMethod[] = [
  { code: 'standard', name: 'Standard', price_minor: 495, active: true },
  { code: 'express', name: 'Express', price_minor: 1250, active: true },
  { code: 'courier', name: 'Courier', price_minor: 900, active: false },
];
const STORE = { currency: 'EUR', products: PRODUCTS, shippingMethods: METHODS };
const CUSTOMER = { name: 'Ada Lovelace', email: 'ada@example.com', phone: null };
const ADDRESS: Address = { line1: '1 Analytical Way', line2: null, city: 'London', postal_code: 'N1 9GU', region: null, country: 'GB' };

const pickup = (items: CheckoutRequest['items']): CheckoutRequest => ({ fulfilment_type: 'pickup', items, customer: CUSTOMER });
const shipping = (extra: Partial<CheckoutRequest> = {}): CheckoutRequest => ({
  fulfilment_type: 'shipping',
  items: [{ product_id: 1, quantity: 2 }],
  customer: CUSTOMER,
  shipping_address: ADDRESS,
  shipping_method: 'standard',
  ...extra,
});

function refusal(run: () => unknown): { code: ErrorCode; details: unknown } {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return { code: (e as AppError).code, details: (e as AppError).details };
  }
  return expect.fail('expected the checkout to be refused');
}

describe('priceCheckout: lines and prices', () => {
  it('prices every line from the catalog in minor units', () => {
    const priced = priceCheckout(pickup([{ product_id: 1, quantity: 2 }, { product_id: 2, quantity: 3 }]), STORE);
    expect(priced.items).toEqual([
      { product_id: 1, name: 'Flat white', unit_price_minor: 450, quantity: 2, line_total_minor: 900 },
      { product_id: 2, name: 'Croissant', unit_price_minor: 275, quantity: 3, line_total_minor: 825 },
    ]);
    expect(priced).toMatchObject({ subtotal_minor: 1725, shipping_cost_minor: 0, total_minor: 1725, currency: 'EUR' });
    for (const n of [priced.subtotal_minor, priced.total_minor, ...priced.items.map((i) => i.line_total_minor)]) {
      expect(Number.isInteger(n)).toBe(true);
    }
  });

  it('follows the catalog price, whatever price the client believed', () => {
    const repriced = { ...STORE, products: PRODUCTS.map((p) => (p.id === 1 ? { ...p, price_minor: 500 } : p)) };
    const request = { ...pickup([{ product_id: 1, quantity: 1 }]), items: [{ product_id: 1, quantity: 1, unit_price_minor: 1 }] };
    expect(priceCheckout(request, repriced)).toMatchObject({ items: [{ unit_price_minor: 500 }], total_minor: 500 });
  });

  it('merges duplicate lines of one product into one line, in order of first appearance', () => {
    const priced = priceCheckout(
      pickup([{ product_id: 2, quantity: 1 }, { product_id: 1, quantity: 2 }, { product_id: 2, quantity: 4 }]),
      STORE,
    );
    expect(priced.items.map((i) => [i.product_id, i.quantity, i.line_total_minor])).toEqual([[2, 5, 1375], [1, 2, 900]]);
    expect(priced.subtotal_minor).toBe(2275);
  });

  itEach([
    { label: 'an inactive product', product_id: 3 },
    { label: 'an unknown product', product_id: 99 },
  ])('refuses $label with CHECKOUT_PRODUCT_UNAVAILABLE', ({ product_id }) => {
    const request = pickup([{ product_id: 1, quantity: 1 }, { product_id, quantity: 1 }]);
    expect(refusal(() => priceCheckout(request, STORE))).toEqual({ code: 'CHECKOUT_PRODUCT_UNAVAILABLE', details: { product_id } });
  });

  it('refuses a product priced in another currency than the store', () => {
    expect(refusal(() => priceCheckout(pickup([{ product_id: 4, quantity: 1 }]), STORE)))
      .toEqual({ code: 'CHECKOUT_CURRENCY_MISMATCH', details: { product_id: 4, currency: 'USD' } });
  });

  it('accepts exactly MAX_QUANTITY of one product', () => {
    const priced = priceCheckout(pickup([{ product_id: 2, quantity: MAX_QUANTITY }]), STORE);
    expect(priced.total_minor).toBe(275 * MAX_QUANTITY);
  });

  itEach([
    { label: 'one line over MAX_QUANTITY', items: [{ product_id: 2, quantity: MAX_QUANTITY + 1 }] },
    { label: 'duplicate lines adding up to over MAX_QUANTITY', items: [{ product_id: 2, quantity: 500 }, { product_id: 2, quantity: 500 }] },
  ])('refuses $label with VALIDATION_FAILED', ({ items }) => {
    expect(refusal(() => priceCheckout(pickup(items), STORE))).toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'items' } });
  });
});

describe('priceCheckout: fulfilment', () => {
  it('adds the shipping method price to a shipping order and freezes its address and method', () => {
    expect(priceCheckout(shipping({ shipping_method: 'express' }), STORE)).toMatchObject({
      fulfilment_type: 'shipping',
      shipping_address: ADDRESS,
      shipping_method: 'express',
      subtotal_minor: 900,
      shipping_cost_minor: 1250,
      total_minor: 2150,
      customer: CUSTOMER,
    });
  });

  itEach([
    { label: 'missing', shipping_address: undefined },
    { label: 'null', shipping_address: null },
  ])('refuses a shipping order whose address is $label with CHECKOUT_ADDRESS_REQUIRED', ({ shipping_address }) => {
    expect(refusal(() => priceCheckout(shipping({ shipping_address }), STORE)).code).toBe('CHECKOUT_ADDRESS_REQUIRED');
  });

  itEach([
    { label: 'no shipping method', shipping_method: undefined, sent: null },
    { label: 'a shipping method the store does not have', shipping_method: 'teleport', sent: 'teleport' },
    { label: 'an inactive shipping method', shipping_method: 'courier', sent: 'courier' },
  ])('refuses a shipping order with $label, listing the methods offered', ({ shipping_method, sent }) => {
    expect(refusal(() => priceCheckout(shipping({ shipping_method }), STORE))).toEqual({
      code: 'CHECKOUT_SHIPPING_METHOD_INVALID',
      details: { shipping_method: sent, offered: ['standard', 'express'] },
    });
  });

  it('a pickup order costs nothing to ship and keeps no address or method even when sent', () => {
    const request = { ...pickup([{ product_id: 1, quantity: 1 }]), shipping_address: ADDRESS, shipping_method: 'express' };
    expect(priceCheckout(request, STORE)).toMatchObject({
      fulfilment_type: 'pickup',
      shipping_address: null,
      shipping_method: null,
      shipping_cost_minor: 0,
      total_minor: 450,
    });
  });
});
