import { describe, expect, it } from 'vitest';
import {
  decideProductChange,
  priceCheckout,
  type OrderCreatedData,
  type OrderStatus,
} from '../../../src/domain/index.js';
import { EVENT_CATALOGUE, validateEventPayload } from '../../../src/events/index.js';
import { AppError } from '../../../src/shared/index.js';
import { replay, type Step } from '../../support/given-order.js';
import { changeTo, overrideTo } from '../../support/order-expectations.js';
import { PUBLIC_ID, T0, TRACKING_CODE } from '../../support/order-fixtures.js';
import { itEach } from '../../support/it-each.js';

const VERSION_OF: Record<string, number> = { OrderCreated: 1, OrderStatusUpdated: 2, ShippingStatusUpdated: 1, ProductUpdated: 1 };

function refusal(name: string, version: number, payload: unknown): { code: string; details: Record<string, unknown> | undefined } {
  try {
    validateEventPayload(name, version, payload);
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return { code: (e as AppError).code, details: (e as AppError).details };
  }
  return expect.fail(`expected ${name} v${version} to be refused: ${JSON.stringify(payload)}`);
}

function orderCreated(): OrderCreatedData {
  const priced = priceCheckout(
    {
      fulfilment_type: 'shipping',
      items: [{ product_id: 1, quantity: 2 }],
      customer: { name: 'Ada', email: 'ada@example.com', phone: null },
      shipping_address: { line1: '1 Way', line2: null, city: 'London', postal_code: 'N1', region: null, country: 'GB' },
      shipping_method: 'standard',
    },
    {
      currency: 'EUR',
      products: [{ id: 1, name: 'Flat white', price_minor: 450, currency: 'EUR', active: true }],
      shippingMethods: [{ code: 'standard', name: 'Standard', price_minor: 495, active: true }],
    },
  );
  return {
    ...priced,
    order_id: 123,
    public_id: PUBLIC_ID,
    merchant_id: 5,
    store_id: 77,
    status: 'pending',
    timestamp: T0.toISOString(),
    version: 1,
  };
}

const walk = (to: OrderStatus[]): Step[] => to.map((s) => ({ command: changeTo(s), role: 'staff' }));

const STORIES: Record<string, { type: 'pickup' | 'shipping'; steps: Step[] }> = {
  'a pickup order collected': {
    type: 'pickup',
    steps: walk(['accepted', 'in_progress', 'ready', 'completed']),
  },
  'a shipping order delivered': {
    type: 'shipping',
    steps: walk(['accepted', 'packing', 'shipped', 'delivered']),
  },
  'a shipping order rejected': { type: 'shipping', steps: [{ command: changeTo('rejected'), role: 'manager' }] },
  'a pickup order cancelled': {
    type: 'pickup',
    steps: [{ command: changeTo('accepted'), role: 'staff' }, { command: changeTo('cancelled'), role: 'owner' }],
  },
  'a shipping order overridden back and forth': {
    type: 'shipping',
    steps: [
      { command: overrideTo('shipped', { trackingCode: TRACKING_CODE }), role: 'owner' },
      { command: overrideTo('packing'), role: 'owner' },
      { command: overrideTo('cancelled'), role: 'owner' },
    ],
  },
};

describe('event catalogue: what the domain emits is valid', () => {
  itEach(Object.entries(STORIES).map(([story, s]) => ({ story, ...s })))(
    'every event of $story validates against its catalogue schema',
    ({ type, steps }) => {
      const { events } = replay(type, steps);
      expect(events.length).toBeGreaterThan(0);
      for (const e of events) expect(() => validateEventPayload(e.type, VERSION_OF[e.type]!, e.data)).not.toThrow();
    },
  );

  it('an OrderCreated built from a priced checkout validates', () => {
    expect(() => validateEventPayload('OrderCreated', 1, orderCreated())).not.toThrow();
  });

  it('a ProductUpdated from decideProductChange validates', () => {
    const product = { id: 8, storeId: 77, name: 'Croissant', priceMinor: 275, currency: 'EUR', active: true, version: 1 };
    const { event } = decideProductChange(product, { priceMinor: 300, active: false }, T0);
    expect(() => validateEventPayload('ProductUpdated', 1, event)).not.toThrow();
  });

  it('lists the four domain events at their current versions, and the notification event', () => {
    expect([...EVENT_CATALOGUE.values()].map((t) => [t.name, t.version, t.category])).toEqual([
      ...Object.entries(VERSION_OF).map(([name, version]) => [name, version, 'domain']),
      ['NotificationCreated', 1, 'notification'],
    ]);
  });
});

const shipped = replay('shipping', STORIES['a shipping order delivered']!.steps).events;
const statusUpdated = shipped.find((e) => e.type === 'OrderStatusUpdated')!.data;
const shippingUpdated = shipped.find((e) => e.type === 'ShippingStatusUpdated')!.data;
const productUpdated = decideProductChange(
  { id: 8, storeId: 77, name: 'Croissant', priceMinor: 275, currency: 'EUR', active: true, version: 1 },
  { name: 'Pain' },
  T0,
).event!;

const without = (o: object, key: string) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));

const MALFORMED: { name: keyof typeof VERSION_OF; label: string; payload: unknown }[] = [
  { name: 'OrderCreated', label: 'no items', payload: { ...orderCreated(), items: [] } },
  { name: 'OrderCreated', label: 'a short public id', payload: { ...orderCreated(), public_id: 'ABCD1234' } },
  { name: 'OrderCreated', label: 'a status other than pending', payload: { ...orderCreated(), status: 'accepted' } },
  { name: 'OrderCreated', label: 'a fractional price', payload: { ...orderCreated(), total_minor: 12.5 } },
  { name: 'OrderCreated', label: 'a negative subtotal', payload: { ...orderCreated(), subtotal_minor: -1 } },
  { name: 'OrderCreated', label: 'a four-letter currency', payload: { ...orderCreated(), currency: 'EURO' } },
  { name: 'OrderCreated', label: 'version 2', payload: { ...orderCreated(), version: 2 } },
  { name: 'OrderStatusUpdated', label: 'an unknown status', payload: { ...statusUpdated, new_status: 'lost' } },
  { name: 'OrderStatusUpdated', label: 'no override flag', payload: without(statusUpdated, 'override') },
  { name: 'OrderStatusUpdated', label: 'a date-only timestamp', payload: { ...statusUpdated, timestamp: '2025-03-01' } },
  { name: 'OrderStatusUpdated', label: 'version 1', payload: { ...statusUpdated, version: 1 } },
  { name: 'OrderStatusUpdated', label: 'a string order id', payload: { ...statusUpdated, order_id: '123' } },
  { name: 'OrderStatusUpdated', label: 'an unknown fulfilment type', payload: { ...statusUpdated, fulfilment_type: 'drone' } },
  { name: 'ShippingStatusUpdated', label: 'an unknown shipping status', payload: { ...shippingUpdated, new_shipping_status: 'lost' } },
  { name: 'ShippingStatusUpdated', label: 'no tracking code field', payload: without(shippingUpdated, 'tracking_code') },
  { name: 'ProductUpdated', label: 'an empty changed list', payload: { ...productUpdated, changed: [] } },
  { name: 'ProductUpdated', label: 'an unknown changed field', payload: { ...productUpdated, changed: ['colour'] } },
  { name: 'ProductUpdated', label: 'a negative price', payload: { ...productUpdated, price_minor: -5 } },
  { name: 'ProductUpdated', label: 'a zero product id', payload: { ...productUpdated, product_id: 0 } },
];

describe('event catalogue: refusals', () => {
  itEach(MALFORMED)('refuses $name with $label as EVENT_SCHEMA_INVALID', ({ name, payload }) => {
    const version = VERSION_OF[name]!;
    const { code, details } = refusal(name, version, payload);
    expect(code).toBe('EVENT_SCHEMA_INVALID');
    expect(details).toMatchObject({ name, version });
    expect((details?.issues as unknown[]).length).toBeGreaterThan(0);
  });

  it.each([null, undefined, 'a string', 42, []])('refuses a payload that is not an object (%j)', (payload) => {
    expect(refusal('OrderStatusUpdated', 2, payload).code).toBe('EVENT_SCHEMA_INVALID');
  });

  it('refuses an unknown event name', () => {
    expect(refusal('OrderTeleported', 1, statusUpdated)).toEqual({
      code: 'EVENT_SCHEMA_INVALID',
      details: { name: 'OrderTeleported', version: 1, issue: 'unknown event type or version' },
    });
  });

  it.each([1, 3])('refuses OrderStatusUpdated at version %i, which the catalogue does not hold', (version) => {
    expect(refusal('OrderStatusUpdated', version, statusUpdated)).toEqual({
      code: 'EVENT_SCHEMA_INVALID',
      details: { name: 'OrderStatusUpdated', version, issue: 'unknown event type or version' },
    });
  });

  it('refuses a valid payload filed under another event name', () => {
    expect(refusal('ShippingStatusUpdated', 1, statusUpdated).code).toBe('EVENT_SCHEMA_INVALID');
  });

  it('keeps at most five issues in the refusal', () => {
    const { details } = refusal('OrderCreated', 1, {});
    expect((details?.issues as unknown[]).length).toBe(5);
  });
});
