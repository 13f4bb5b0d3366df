import { describe, expect, it } from 'vitest';
import { type EventMetadata, type StoredEvent } from '../../../src/events/index.js';
import { BROADCAST_EVENT_NAMES, broadcastsFor, channelOf, parseStoreFlowChannel } from '../../../src/reactions/index.js';

const PUBLIC_ID = 'pub_3fJk9QwErTyUiOpAsDfGh';
const T = '2025-03-01T10:00:00.000Z';
const metadata: EventMetadata = {
  merchant_id: 3, store_id: 7, actor: { type: 'user', id: 42, role: 'staff' }, correlation_id: 'c', causation_id: null, request_id: 'r',
};

function stored(name: string, payload: Record<string, unknown>, checkpoint = '901.55'): StoredEvent {
  return {
    id: '00000000-0000-4000-8000-000000000001', name, version: 1, stream: 'order-11', stream_version: 2, payload, metadata,
    timestamp: T, source: 'test', position: 55, transaction_id: '901', checkpoint,
  };
}

const statusUpdated = {
  order_id: 11, public_id: PUBLIC_ID, old_status: 'accepted', new_status: 'packing', timestamp: T,
  fulfilment_type: 'shipping', store_id: 7, version: 3, reason: 'customer asked', override: true,
};
const shippingUpdated = {
  order_id: 11, public_id: PUBLIC_ID, store_id: 7, old_shipping_status: 'pending', new_shipping_status: 'shipped',
  tracking_code: 'DHL-1', tracking_url: null, timestamp: T, version: 4,
};

describe('the broadcast mapping (event -> channels and payloads)', () => {
  it('sends OrderCreated whole, with its position, to the store order channel only', () => {
    const payload = { order_id: 11, public_id: PUBLIC_ID, merchant_id: 3, store_id: 7, status: 'pending', version: 1, customer: { name: 'Ada' } };
    expect(broadcastsFor(stored('OrderCreated', payload))).toEqual([
      { channel: 'private-store.7.orders', name: 'OrderCreated', payload: { ...payload, position: '901.55' } },
    ]);
  });

  it('sends OrderStatusUpdated whole to staff and sanitised to the customer, both with position and version', () => {
    const [staff, customer, ...rest] = broadcastsFor(stored('OrderStatusUpdated', statusUpdated));
    expect(rest).toEqual([]);
    expect(staff).toEqual({ channel: 'private-store.7.orders', name: 'OrderStatusUpdated', payload: { ...statusUpdated, position: '901.55' } });
    expect(customer).toEqual({
      channel: `customer.${PUBLIC_ID}.order`,
      name: 'OrderStatusUpdated',
      payload: { public_id: PUBLIC_ID, old_status: 'accepted', new_status: 'packing', timestamp: T, fulfilment_type: 'shipping', version: 3, position: '901.55' },
    });
  });

  it('sends ShippingStatusUpdated to both, the customer copy without internal ids', () => {
    const [staff, customer] = broadcastsFor(stored('ShippingStatusUpdated', shippingUpdated, '902.60'));
    expect(staff?.payload).toEqual({ ...shippingUpdated, position: '902.60' });
    expect(customer?.channel).toBe(`customer.${PUBLIC_ID}.order`);
    expect(Object.keys(customer?.payload ?? {}).sort()).toEqual(
      ['new_shipping_status', 'old_shipping_status', 'position', 'public_id', 'timestamp', 'tracking_code', 'tracking_url', 'version'],
    );
  });

  it('sends ProductUpdated to the store catalog channel', () => {
    const payload = { product_id: 5, store_id: 7, name: 'Mug', price_minor: 900, currency: 'EUR', active: true, changed: ['price_minor'], timestamp: T, version: 2 };
    expect(broadcastsFor(stored('ProductUpdated', payload))).toEqual([
      { channel: 'private-store.7.catalog', name: 'ProductUpdated', payload: { ...payload, position: '901.55' } },
    ]);
  });

  it("sends NotificationCreated to its store's channel, or the merchant's when it has no store", () => {
    const n = { notification_key: 'k', merchant_id: 3, store_id: 7, kind: 'order_created', title: 't', body: 'b', link: null, user_ids: [1], source_event_id: null, timestamp: T };
    expect(broadcastsFor(stored('NotificationCreated', n)).map((b) => b.channel)).toEqual(['private-store.7.notifications']);
    expect(broadcastsFor(stored('NotificationCreated', { ...n, store_id: null })).map((b) => b.channel)).toEqual(['private-merchant.3.notifications']);
  });

  it('broadcasts nothing for events it does not know, and names every event it maps', () => {
    expect(broadcastsFor(stored('LoyaltyPointsUpdated', { points: 3 }))).toEqual([]);
    expect([...BROADCAST_EVENT_NAMES].sort()).toEqual(['NotificationCreated', 'OrderCreated', 'OrderStatusUpdated', 'ProductUpdated', 'ShippingStatusUpdated']);
  });

  it('keeps the wire name identical to the log name', () => {
    for (const b of [...broadcastsFor(stored('OrderStatusUpdated', statusUpdated)), ...broadcastsFor(stored('ShippingStatusUpdated', shippingUpdated))]) {
      expect(['OrderStatusUpdated', 'ShippingStatusUpdated']).toContain(b.name);
    }
  });
});

describe('StoreFlow channel names', () => {
  it('parses what the mapping builds', () => {
    expect(parseStoreFlowChannel(channelOf.store(7, 'orders'))).toEqual({ kind: 'store', storeId: 7, topic: 'orders' });
    expect(parseStoreFlowChannel(channelOf.store(7, 'catalog'))).toEqual({ kind: 'store', storeId: 7, topic: 'catalog' });
    expect(parseStoreFlowChannel(channelOf.storePresence(12))).toEqual({ kind: 'store-presence', storeId: 12 });
    expect(parseStoreFlowChannel(channelOf.merchantNotifications(3))).toEqual({ kind: 'merchant-notifications', merchantId: 3 });
    expect(parseStoreFlowChannel(channelOf.customerOrder(PUBLIC_ID))).toEqual({ kind: 'customer-order', publicId: PUBLIC_ID });
    expect(parseStoreFlowChannel(channelOf.customerLoyalty(PUBLIC_ID))).toEqual({ kind: 'customer-loyalty', publicId: PUBLIC_ID });
  });

  it.each([
    'private-store.0.orders', 'private-store.01.orders', 'private-store.1.orders.x', 'private-store.1.payroll', 'store.1.orders',
    'private-store.1e3.orders', 'private-merchant.1.orders', 'presence-store.1.orders', 'customer.short.order', 'customer.' + 'a'.repeat(65) + '.order',
    'private-customer..loyalty', 'private-encrypted-store.1.orders', '#server-to-user-1', 'private-store.9999999999999999.orders',
  ])('is none of ours: %s', (name) => {
    expect(parseStoreFlowChannel(name)).toBeNull();
  });
});
