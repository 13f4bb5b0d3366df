import { describe, expect, it } from 'vitest';
import type { OrderCommand, OrderEvent, OrderStatus, ShippingStatus } from '../../../src/domain/index.js';
import type { ErrorCode } from '../../../src/shared/index.js';
import { givenOrder } from '../../support/given-order.js';
import {
  allowedFrom,
  changeOutcome,
  changeTo,
  EVERY_STATUS,
  NEW_CODE,
  NEW_URL,
  nextOf,
  overrideTo,
  REASON,
  ROLES,
  shippingUpdated,
  statusesOf,
  statusUpdated,
  TERMINAL,
  TYPES,
} from '../../support/order-expectations.js';
import { orderIn, PUBLIC_ID, T0, TRACKING_CODE, TRACKING_URL } from '../../support/order-fixtures.js';
import { itEach } from '../../support/it-each.js';

const changeCases = TYPES.flatMap((type) =>
  statusesOf(type).flatMap((from) =>
    EVERY_STATUS.flatMap((to) => ROLES.map((role) => ({ type, from, to, role, code: changeOutcome(type, from, to, role) }))),
  ),
);

describe('order decider: ordinary status changes', () => {
  itEach(changeCases.filter((c) => c.code === 'ok'))(
    '$role may move a $type order from $from to $to',
    ({ type, from, to, role }) => {
      const state = orderIn(type, from);
      const reason = to === 'cancelled' || to === 'rejected' ? REASON : null;
      const expected = [statusUpdated(state, to, { reason })];
      if (type === 'shipping' && to === 'shipped') {
        expected.push(shippingUpdated(state, 'shipped', { code: NEW_CODE, url: NEW_URL }));
      }
      if (type === 'shipping' && to === 'delivered') {
        expected.push(shippingUpdated(state, 'delivered', { code: TRACKING_CODE, url: TRACKING_URL }));
      }
      givenOrder(state).when(changeTo(to), role).thenEvents(expected);
    },
  );

  itEach(changeCases.filter((c) => c.code === 'ROLE_FORBIDDEN'))(
    '$role may not move a $type order from $from to $to: ROLE_FORBIDDEN',
    ({ type, from, to, role }) => {
      const action = to === 'cancelled' ? 'order.cancel' : 'order.reject';
      givenOrder(orderIn(type, from)).when(changeTo(to), role).thenRefused('ROLE_FORBIDDEN', { role, action });
    },
  );

  itEach(changeCases.filter((c) => c.code === 'ORDER_INVALID_TRANSITION'))(
    '$role may not move a $type order from $from to $to: ORDER_INVALID_TRANSITION',
    ({ type, from, to, role }) => {
      givenOrder(orderIn(type, from))
        .when(changeTo(to), role)
        .thenRefused('ORDER_INVALID_TRANSITION', { from, to, allowed: allowedFrom(type, from) });
    },
  );

  it('the tables cover every role, both workflows and every target status', () => {
    expect(changeCases).toHaveLength(2 * 7 * 10 * 3);
    expect(changeCases.filter((c) => c.code === 'ok').length).toBeGreaterThan(0);
  });

  itEach(TYPES.flatMap((type) => TERMINAL.filter((s) => statusesOf(type).includes(s)).flatMap((status) =>
    ROLES.map((role) => ({ type, status, role })))))(
    'a $status $type order refuses every ordinary change by $role',
    ({ type, status, role }) => {
      for (const to of EVERY_STATUS) {
        const err = givenOrder(orderIn(type, status)).when(changeTo(to), role).thenRefused(changeOutcome(type, status, to, role) as ErrorCode);
        expect(['ROLE_FORBIDDEN', 'ORDER_INVALID_TRANSITION']).toContain(err.code);
      }
    },
  );

  it('refuses a shipping-only step for a pickup order and a pickup-only step for a shipping order', () => {
    givenOrder(orderIn('pickup', 'accepted')).when(changeTo('packing'), 'manager')
      .thenRefused('ORDER_INVALID_TRANSITION', { from: 'accepted', to: 'packing', allowed: ['in_progress', 'cancelled'] });
    givenOrder(orderIn('shipping', 'accepted')).when(changeTo('in_progress'), 'staff')
      .thenRefused('ORDER_INVALID_TRANSITION', { from: 'accepted', to: 'in_progress', allowed: ['packing', 'cancelled'] });
    givenOrder(orderIn('pickup', 'ready')).when(changeTo('shipped'), 'staff')
      .thenRefused('ORDER_INVALID_TRANSITION', { from: 'ready', to: 'shipped', allowed: ['completed', 'cancelled'] });
  });

  it('emits the seed payload for a pickup order starting preparation', () => {
    const state = orderIn('pickup', 'accepted', { version: 4 });
    givenOrder(state).when({ type: 'ChangeStatus', to: 'in_progress' }, 'staff', new Date('2025-03-01T12:30:00Z'))
      .thenEvents([{
        type: 'OrderStatusUpdated',
        data: {
          order_id: 123, public_id: PUBLIC_ID, old_status: 'accepted', new_status: 'in_progress',
          timestamp: '2025-03-01T12:30:00.000Z', fulfilment_type: 'pickup', store_id: 77,
          version: 5, reason: null, override: false,
        },
      } as OrderEvent]);
  });

  it('cancelling a shipped order keeps its shipping status and emits no shipping event', () => {
    const state = orderIn('shipping', 'shipped');
    givenOrder(state).when(changeTo('cancelled'), 'manager').thenEvents([statusUpdated(state, 'cancelled', { reason: REASON })]);
  });

  it('never emits a shipping event for a pickup order', () => {
    for (const from of ['pending', 'accepted', 'in_progress', 'ready'] as const) {
      const events = givenOrder(orderIn('pickup', from)).when(changeTo(nextOf('pickup', from)!), 'staff').thenEvents([
        statusUpdated(orderIn('pickup', from), nextOf('pickup', from)!),
      ]);
      expect(events.map((e) => e.type)).toEqual(['OrderStatusUpdated']);
    }
  });
});

describe('order decider: reasons for cancel and reject', () => {
  const reasonCases = [
    { to: 'cancelled' as const, from: 'in_progress' as const },
    { to: 'rejected' as const, from: 'pending' as const },
  ];

  const unusable = [
    { label: 'no reason', reason: undefined },
    { label: 'an empty reason', reason: '' },
    { label: 'a blank reason', reason: '    ' },
    { label: 'a reason over 500 characters', reason: 'x'.repeat(501) },
  ];

  itEach(reasonCases.flatMap((c) => unusable.map((u) => ({ ...c, ...u }))))(
    'moving to $to with $label is refused with ORDER_REASON_REQUIRED',
    ({ to, from, reason }) => {
      givenOrder(orderIn('pickup', from)).when({ type: 'ChangeStatus', to, reason }, 'manager')
        .thenRefused('ORDER_REASON_REQUIRED', { max_length: 500 });
    },
  );

  itEach(reasonCases)('a reason of exactly 500 characters is accepted for $to', ({ to, from }) => {
    const state = orderIn('pickup', from);
    const reason = 'r'.repeat(500);
    givenOrder(state).when({ type: 'ChangeStatus', to, reason }, 'owner').thenEvents([statusUpdated(state, to, { reason })]);
  });

  it('an ordinary step carries no reason even when one is sent', () => {
    const state = orderIn('pickup', 'pending');
    givenOrder(state).when({ type: 'ChangeStatus', to: 'accepted', reason: 'why not' }, 'staff')
      .thenEvents([statusUpdated(state, 'accepted')]);
  });

  it('checks the transition before asking for a reason', () => {
    givenOrder(orderIn('pickup', 'accepted')).when({ type: 'ChangeStatus', to: 'rejected' }, 'manager')
      .thenRefused('ORDER_INVALID_TRANSITION', { from: 'accepted', to: 'rejected' });
  });
});

describe('order decider: shipping with tracking', () => {
  const packing = orderIn('shipping', 'packing');
  const ship = (trackingCode?: string, trackingUrl?: string): OrderCommand =>
    ({ type: 'ChangeStatus', to: 'shipped', trackingCode, trackingUrl });

  itEach([
    { label: 'no tracking code', code: undefined },
    { label: 'an empty tracking code', code: '' },
    { label: 'a blank tracking code', code: '   ' },
    { label: 'a tracking code over 100 characters', code: 'x'.repeat(101) },
  ])(
    'shipping with $label is refused with ORDER_TRACKING_CODE_REQUIRED',
    ({ code }) => {
      givenOrder(packing).when(ship(code), 'staff').thenRefused('ORDER_TRACKING_CODE_REQUIRED', { max_length: 100 });
    },
  );

  it('accepts a tracking code of 100 characters, trimmed, without a tracking URL', () => {
    const code = 'C'.repeat(100);
    givenOrder(packing).when(ship(`  ${code}  `), 'staff').thenEvents([
      statusUpdated(packing, 'shipped'),
      shippingUpdated(packing, 'shipped', { code, url: null }),
    ]);
  });

  it.each(['', '   '])('treats a blank tracking URL (%j) as no URL', (url) => {
    givenOrder(packing).when(ship(NEW_CODE, url), 'staff').thenOrder({ trackingUrl: null, trackingCode: NEW_CODE });
  });

  it.each(['http://carrier.example/x', 'https://carrier.example/x?id=1'])('accepts the tracking URL %s', (url) => {
    givenOrder(packing).when(ship(NEW_CODE, url), 'staff').thenOrder({ trackingUrl: url, shippingStatus: 'shipped' });
  });

  it.each(['ftp://carrier.example/x', 'javascript:alert(1)', 'mailto:a@b.example', 'carrier.example/x', 'not a url'])(
    'refuses the tracking URL %s with VALIDATION_FAILED',
    (url) => {
      givenOrder(packing).when(ship(NEW_CODE, url), 'staff')
        .thenRefused('VALIDATION_FAILED', { field: 'tracking_url' });
    },
  );

  it('checks the transition before the tracking code', () => {
    givenOrder(orderIn('shipping', 'accepted')).when(ship(), 'staff')
      .thenRefused('ORDER_INVALID_TRANSITION', { from: 'accepted', to: 'shipped', allowed: ['packing', 'cancelled'] });
  });
});

/** Where the shipping status of a shipping order stands after an override to `to`. */
function shippingStatusAfter(current: ShippingStatus | null, to: OrderStatus): ShippingStatus {
  if (to === 'shipped' || to === 'delivered') return to;
  if (to === 'cancelled' || to === 'rejected') return current ?? 'pending';
  return 'pending';
}

const overrideCases = TYPES.flatMap((type) =>
  statusesOf(type).flatMap((from) =>
    EVERY_STATUS.map((to) => ({ type, from, to, allowed: to !== from && statusesOf(type).includes(to) })),
  ),
);
const OVERRIDE_REASON = 'fixing a mis-click';
const overrideWithTracking = (to: OrderStatus) =>
  overrideTo(to, to === 'shipped' || to === 'delivered' ? { trackingCode: NEW_CODE } : {});

describe('order decider: owner overrides', () => {
  itEach(overrideCases.filter((c) => c.allowed))(
    'the owner may override a $type order from $from to $to, audited as an override',
    ({ type, from, to }) => {
      const state = orderIn(type, from);
      const expected = [statusUpdated(state, to, { reason: OVERRIDE_REASON, override: true })];
      const shipping = type === 'shipping' ? shippingStatusAfter(state.shippingStatus, to) : null;
      if (shipping !== null && shipping !== state.shippingStatus) {
        const retracked = to === 'shipped' || to === 'delivered';
        expected.push(shippingUpdated(state, shipping, retracked
          ? { code: NEW_CODE, url: null }
          : { code: state.trackingCode, url: state.trackingUrl }));
      }
      givenOrder(state).when(overrideWithTracking(to), 'owner').thenEvents(expected);
    },
  );

  itEach(overrideCases.filter((c) => !c.allowed))(
    'the owner may not override a $type order from $from to $to: ORDER_INVALID_TRANSITION',
    ({ type, from, to }) => {
      givenOrder(orderIn(type, from)).when(overrideWithTracking(to), 'owner')
        .thenRefused('ORDER_INVALID_TRANSITION', { from, to });
    },
  );

  itEach(overrideCases.filter((c) => c.allowed).flatMap((c) => (['manager', 'staff'] as const).map((role) => ({ ...c, role }))))(
    '$role may not override a $type order from $from to $to: ROLE_FORBIDDEN',
    ({ type, from, to, role }) => {
      givenOrder(orderIn(type, from)).when(overrideWithTracking(to), role)
        .thenRefused('ROLE_FORBIDDEN', { role, action: 'order.override' });
    },
  );

  itEach([
    { label: 'no reason', reason: undefined },
    { label: 'a blank reason', reason: '   ' },
    { label: 'a reason over 500 characters', reason: 'x'.repeat(501) },
  ])(
    'an owner override with $label is refused with ORDER_REASON_REQUIRED',
    ({ reason }) => {
      const command = { type: 'OverrideStatus', to: 'ready', reason } as OrderCommand;
      givenOrder(orderIn('pickup', 'completed')).when(command, 'owner').thenRefused('ORDER_REASON_REQUIRED');
    },
  );

  it('refuses a manager override for the role before looking at the reason', () => {
    const command = { type: 'OverrideStatus', to: 'ready', reason: '' } as OrderCommand;
    givenOrder(orderIn('pickup', 'completed')).when(command, 'manager')
      .thenRefused('ROLE_FORBIDDEN', { role: 'manager', action: 'order.override' });
  });

  it('an override to shipped of an order never shipped needs a tracking code', () => {
    givenOrder(orderIn('shipping', 'pending')).when(overrideTo('shipped'), 'owner')
      .thenRefused('ORDER_TRACKING_CODE_REQUIRED');
    givenOrder(orderIn('shipping', 'accepted')).when(overrideTo('delivered'), 'owner')
      .thenRefused('ORDER_TRACKING_CODE_REQUIRED');
  });

  it('an override to delivered keeps the tracking the order already has when none is sent', () => {
    const state = orderIn('shipping', 'shipped');
    givenOrder(state).when(overrideTo('delivered'), 'owner').thenEvents([
      statusUpdated(state, 'delivered', { reason: OVERRIDE_REASON, override: true }),
      shippingUpdated(state, 'delivered', { code: TRACKING_CODE, url: TRACKING_URL }),
    ]);
  });

  it('an override to shipped refuses a tracking URL that is not http or https', () => {
    givenOrder(orderIn('shipping', 'packing'))
      .when(overrideTo('shipped', { trackingCode: NEW_CODE, trackingUrl: 'file:///etc/passwd' }), 'owner')
      .thenRefused('VALIDATION_FAILED', { field: 'tracking_url' });
  });

  it('an override from a terminal state reopens the order', () => {
    givenOrder(orderIn('shipping', 'cancelled')).when(overrideTo('accepted'), 'owner')
      .thenOrder({ status: 'accepted', shippingStatus: 'pending', version: 11 });
    givenOrder(orderIn('pickup', 'completed')).when(overrideTo('ready'), 'owner')
      .thenOrder({ status: 'ready', version: 11 });
  });

  itEach([
    { from: 'cancelled' as const, shippingStatus: 'shipped' as const, to: 'shipped' as const },
    { from: 'rejected' as const, shippingStatus: 'shipped' as const, to: 'shipped' as const },
    { from: 'cancelled' as const, shippingStatus: 'delivered' as const, to: 'delivered' as const },
  ])(
    'an override to $to of an order $from after being $shippingStatus still emits ShippingStatusUpdated with the new tracking',
    ({ from, shippingStatus, to }) => {
      const state = orderIn('shipping', from, { shippingStatus, trackingCode: TRACKING_CODE, trackingUrl: TRACKING_URL });
      givenOrder(state).when(overrideTo(to, { trackingCode: NEW_CODE, trackingUrl: NEW_URL }), 'owner').thenEvents([
        statusUpdated(state, to, { reason: OVERRIDE_REASON, override: true }),
        shippingUpdated(state, to, { code: NEW_CODE, url: NEW_URL }),
      ]);
    },
  );
});
