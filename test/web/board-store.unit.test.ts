import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { useBoard } from '../../web/src/stores/board.js';
import { ageTone } from '../../web/src/format.js';
import type { FeedEvent } from '../../web/src/realtime/index.js';

/** The board's state from feed events: newer versions only, terminal orders leave, other stores ignored. */
describe('the board store', () => {
  let board: ReturnType<typeof useBoard>;
  let position = 100;
  const event = (name: string, payload: Record<string, unknown>): FeedEvent => {
    const p = `7.${position++}`;
    return { name, position: p, payload: { store_id: 1, order_id: 42, public_id: 'pub-000000000000000042', ...payload, position: p } };
  };
  const created = event('OrderCreated', {
    fulfilment_type: 'shipping', status: 'pending', customer: { name: 'Ann', email: 'a@example.test', phone: null },
    shipping_address: null, shipping_method: 'standard', items: [{ product_id: 1, name: 'Mug', quantity: 1, unit_price_minor: 900, line_total_minor: 900 }],
    subtotal_minor: 900, shipping_cost_minor: 490, total_minor: 1390, currency: 'EUR', timestamp: '2026-11-22T00:00:00.000Z', version: 1,
  });
  const status = (from: string, to: string, version: number) =>
    event('OrderStatusUpdated', { old_status: from, new_status: to, fulfilment_type: 'shipping', timestamp: '2026-11-22T00:01:00.000Z', version, reason: null, override: false });

  beforeEach(() => {
    setActivePinia(createPinia());
    board = useBoard();
    board.storeId = 1;
  });

  it('puts a new order on the board with the actions its state allows', () => {
    board.apply(created);
    expect(board.cards.get(42)).toMatchObject({ status: 'pending', version: 1, allowed_next: ['accepted', 'rejected', 'cancelled'], shipping_status: 'pending' });
    expect(board.activity).toHaveLength(1);
  });

  it('moves a card only to a newer version, whatever order updates arrive in', () => {
    board.apply(created);
    board.apply(status('accepted', 'packing', 3));
    board.apply(status('pending', 'accepted', 2));
    expect(board.cards.get(42)).toMatchObject({ status: 'packing', version: 3, allowed_next: ['shipped', 'cancelled'] });
    expect(board.changes.get(42)).toBe(2);
  });

  it('takes the tracking from ShippingStatusUpdated and drops an order that left the workflow', () => {
    board.apply(created);
    board.apply(status('packing', 'shipped', 4));
    board.apply(event('ShippingStatusUpdated', { old_shipping_status: 'pending', new_shipping_status: 'shipped', tracking_code: 'DHL-1', tracking_url: null, timestamp: 't', version: 5 }));
    expect(board.cards.get(42)).toMatchObject({ status: 'shipped', shipping_status: 'shipped', tracking_code: 'DHL-1', version: 5 });
    board.apply(status('shipped', 'delivered', 6));
    expect(board.cards.has(42)).toBe(false);
  });

  it("ignores another store's events", () => {
    board.apply({ ...created, payload: { ...created.payload, store_id: 2 } });
    expect(board.cards.size).toBe(0);
    expect(board.activity).toEqual([]);
  });
});

describe('the age timer', () => {
  it('is green for five minutes, amber until fifteen, then red', () => {
    const at = Date.parse('2026-11-22T00:00:00Z');
    const after = (minutes: number) => ageTone('2026-11-22T00:00:00Z', at + minutes * 60_000);
    expect([after(0), after(4.9), after(5), after(14.9), after(15), after(90)]).toEqual(['fresh', 'fresh', 'waiting', 'waiting', 'late', 'late']);
  });
});
