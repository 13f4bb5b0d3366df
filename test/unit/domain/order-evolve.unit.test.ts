import { describe, expect, it } from 'vitest';
import { decide, evolve, evolveAll, type OrderEvent, type OrderStatus, type Role } from '../../../src/domain/index.js';
import { givenOrder, replay, type Step } from '../../support/given-order.js';
import { changeTo, EVERY_STATUS, NEW_CODE, NEW_URL, overrideTo, ROLES, statusUpdated } from '../../support/order-expectations.js';
import { actor, minutesAfterT0, newOrder, orderIn, T0 } from '../../support/order-fixtures.js';

describe('order evolve: timestamps and version', () => {
  it('sets accepted_at when the order is first accepted', () => {
    givenOrder(newOrder('pickup')).when(changeTo('accepted'), 'staff', minutesAfterT0(1))
      .thenOrder({ status: 'accepted', acceptedAt: minutesAfterT0(1), readyAt: null, completedAt: null, version: 2 });
  });

  it('keeps the first accepted_at when an order is accepted again after an override back to pending', () => {
    const firstAccepted = orderIn('pickup', 'accepted');
    const reopened = evolveAll(firstAccepted, decide(overrideTo('pending'), firstAccepted, { actor: actor('owner'), now: minutesAfterT0(1) }));
    givenOrder(reopened).when(changeTo('accepted'), 'staff', minutesAfterT0(2))
      .thenOrder({ status: 'accepted', acceptedAt: firstAccepted.acceptedAt, version: 12 });
  });

  it('sets no timestamp for the preparation and packing steps', () => {
    for (const [type, to] of [['pickup', 'in_progress'], ['shipping', 'packing']] as const) {
      givenOrder(orderIn(type, 'accepted')).when(changeTo(to), 'staff', minutesAfterT0(1))
        .thenOrder({ status: to, acceptedAt: orderIn(type, 'accepted').acceptedAt, readyAt: null, completedAt: null });
    }
  });

  it('sets ready_at when a pickup order is ready', () => {
    givenOrder(orderIn('pickup', 'in_progress')).when(changeTo('ready'), 'staff', minutesAfterT0(3))
      .thenOrder({ status: 'ready', readyAt: minutesAfterT0(3), completedAt: null, version: 11 });
  });

  it('sets ready_at, tracking and shipping status when a shipping order is shipped', () => {
    givenOrder(orderIn('shipping', 'packing')).when(changeTo('shipped'), 'staff', minutesAfterT0(3)).thenOrder({
      status: 'shipped',
      readyAt: minutesAfterT0(3),
      shippingStatus: 'shipped',
      trackingCode: NEW_CODE,
      trackingUrl: NEW_URL,
      completedAt: null,
      version: 12,
    });
  });

  it('sets completed_at when a pickup order is completed', () => {
    givenOrder(orderIn('pickup', 'ready')).when(changeTo('completed'), 'staff', minutesAfterT0(4))
      .thenOrder({ status: 'completed', completedAt: minutesAfterT0(4), version: 11 });
  });

  it('sets completed_at and the delivered shipping status when a shipping order is delivered', () => {
    const shipped = orderIn('shipping', 'shipped');
    givenOrder(shipped).when(changeTo('delivered'), 'staff', minutesAfterT0(4)).thenOrder({
      status: 'delivered',
      completedAt: minutesAfterT0(4),
      readyAt: shipped.readyAt,
      shippingStatus: 'delivered',
      trackingCode: shipped.trackingCode,
      version: 12,
    });
  });

  it('sets cancelled_at on cancel and rejected_at on reject', () => {
    givenOrder(orderIn('shipping', 'packing')).when(changeTo('cancelled'), 'manager', minutesAfterT0(5))
      .thenOrder({ status: 'cancelled', cancelledAt: minutesAfterT0(5), rejectedAt: null, version: 11 });
    givenOrder(newOrder('pickup')).when(changeTo('rejected'), 'owner', minutesAfterT0(5))
      .thenOrder({ status: 'rejected', rejectedAt: minutesAfterT0(5), cancelledAt: null, acceptedAt: null, version: 2 });
  });

  it('takes the version from each event it folds in', () => {
    const state = orderIn('pickup', 'accepted', { version: 41 });
    expect(evolve(state, statusUpdated(state, 'in_progress')).version).toBe(42);
  });

  it('leaves the order as it is for OrderCreated and does not mutate its input', () => {
    const state = Object.freeze(newOrder('shipping'));
    const created = { type: 'OrderCreated', data: {} } as OrderEvent;
    expect(evolve(state, created)).toBe(state);
    expect(() => evolve(state, statusUpdated(state, 'accepted'))).not.toThrow();
    expect(state.status).toBe('pending');
  });
});

const walk = (to: OrderStatus[], role: Role = 'staff'): Step[] => to.map((s) => ({ command: changeTo(s), role }));

describe('order replay: a whole workflow through decide and evolve', () => {
  it('a pickup order walks to completed with every timestamp in place', () => {
    const { state, events } = replay('pickup', walk(['accepted', 'in_progress', 'ready', 'completed']));
    expect(state).toMatchObject({
      status: 'completed',
      shippingStatus: null,
      trackingCode: null,
      acceptedAt: minutesAfterT0(1),
      readyAt: minutesAfterT0(3),
      completedAt: minutesAfterT0(4),
      cancelledAt: null,
      rejectedAt: null,
      version: 5,
    });
    expect(events.map((e) => e.data.version)).toEqual([2, 3, 4, 5]);
  });

  it('a shipping order walks to delivered with tracking, shipping status and every timestamp in place', () => {
    const { state, events } = replay('shipping', walk(['accepted', 'packing', 'shipped', 'delivered']));
    expect(state).toMatchObject({
      status: 'delivered',
      shippingStatus: 'delivered',
      trackingCode: NEW_CODE,
      trackingUrl: NEW_URL,
      acceptedAt: minutesAfterT0(1),
      readyAt: minutesAfterT0(3),
      completedAt: minutesAfterT0(4),
      version: 7,
    });
    expect(events.map((e) => [e.type, e.data.version])).toEqual([
      ['OrderStatusUpdated', 2],
      ['OrderStatusUpdated', 3],
      ['OrderStatusUpdated', 4],
      ['ShippingStatusUpdated', 5],
      ['OrderStatusUpdated', 6],
      ['ShippingStatusUpdated', 7],
    ]);
  });

  it.each(['pickup', 'shipping'] as const)('a finished %s order refuses every ordinary change by every role', (type) => {
    const steps = type === 'pickup' ? walk(['accepted', 'in_progress', 'ready', 'completed']) : walk(['accepted', 'packing', 'shipped', 'delivered']);
    const { state } = replay(type, steps);
    for (const role of ROLES) {
      for (const to of EVERY_STATUS) {
        expect(() => decide(changeTo(to), state, { actor: actor(role), now: T0 })).toThrow();
      }
    }
  });

  it('a pickup order cancelled while in progress ends cancelled, keeping the timestamps it had', () => {
    const { state } = replay('pickup', [...walk(['accepted', 'in_progress']), { command: changeTo('cancelled'), role: 'manager' }]);
    expect(state).toMatchObject({ status: 'cancelled', acceptedAt: minutesAfterT0(1), readyAt: null, cancelledAt: minutesAfterT0(3), version: 4 });
  });

  it('a shipping order rejected on arrival ends rejected with nothing else set', () => {
    const { state } = replay('shipping', [{ command: changeTo('rejected'), role: 'owner' }]);
    expect(state).toMatchObject({ status: 'rejected', shippingStatus: 'pending', rejectedAt: minutesAfterT0(1), acceptedAt: null, version: 2 });
  });
});
