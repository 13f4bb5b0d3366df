import type { ErrorCode } from '../../src/shared/index.js';
import type {
  FulfilmentType,
  OrderCommand,
  OrderEvent,
  OrderState,
  OrderStatus,
  Role,
  ShippingStatus,
} from '../../src/domain/index.js';
import { T0 } from './order-fixtures.js';

/*
 * The rules of DESIGN.md §6, written out independently of src/domain/orders/order-status.ts
 * so that these tables are the specification the decider is checked against.
 */
export const WORKFLOWS: Record<FulfilmentType, readonly OrderStatus[]> = {
  pickup: ['pending', 'accepted', 'in_progress', 'ready', 'completed'],
  shipping: ['pending', 'accepted', 'packing', 'shipped', 'delivered'],
};
export const TYPES: readonly FulfilmentType[] = ['pickup', 'shipping'];
export const ROLES: readonly Role[] = ['owner', 'manager', 'staff'];
export const EVERY_STATUS: readonly OrderStatus[] = [
  'pending', 'accepted', 'in_progress', 'packing', 'ready',
  'shipped', 'completed', 'delivered', 'cancelled', 'rejected',
];
export const TERMINAL: readonly OrderStatus[] = ['completed', 'delivered', 'cancelled', 'rejected'];
export const statusesOf = (type: FulfilmentType): OrderStatus[] => [...WORKFLOWS[type], 'cancelled', 'rejected'];
export const isTerminal = (s: OrderStatus) => TERMINAL.includes(s);

export function nextOf(type: FulfilmentType, from: OrderStatus): OrderStatus | undefined {
  const steps = WORKFLOWS[type];
  const i = steps.indexOf(from);
  return i >= 0 ? steps[i + 1] : undefined;
}

/** What an ordinary ChangeStatus may reach: the next step, `rejected` from pending, `cancelled`. */
export function allowedFrom(type: FulfilmentType, from: OrderStatus): OrderStatus[] {
  if (isTerminal(from)) return [];
  const next = nextOf(type, from);
  return [...(next ? [next] : []), ...(from === 'pending' ? ['rejected' as const] : []), 'cancelled'];
}

/** Role first (403 before 422): staff may never cancel or reject, whatever the state. */
export function changeOutcome(type: FulfilmentType, from: OrderStatus, to: OrderStatus, role: Role): ErrorCode | 'ok' {
  if ((to === 'cancelled' || to === 'rejected') && role === 'staff') return 'ROLE_FORBIDDEN';
  return allowedFrom(type, from).includes(to) ? 'ok' : 'ORDER_INVALID_TRANSITION';
}

export const REASON = 'customer phoned to cancel';
export const NEW_CODE = 'TRK-9';
export const NEW_URL = 'http://carrier.example/t/TRK-9';

/** The command a well-behaved client sends to reach `to`: reason and tracking padded, to be trimmed. */
export function changeTo(to: OrderStatus): OrderCommand {
  return {
    type: 'ChangeStatus',
    to,
    ...(to === 'cancelled' || to === 'rejected' ? { reason: `  ${REASON}  ` } : {}),
    ...(to === 'shipped' ? { trackingCode: ` ${NEW_CODE} `, trackingUrl: NEW_URL } : {}),
  };
}

export function overrideTo(to: OrderStatus, extra: Partial<OrderCommand> = {}): OrderCommand {
  return { type: 'OverrideStatus', to, reason: ' fixing a mis-click ', ...extra } as OrderCommand;
}

/** The OrderStatusUpdated that moving `state` to `to` must emit (seed 002 §12 plus version, reason, override). */
export function statusUpdated(
  state: OrderState,
  to: OrderStatus,
  opts: { reason?: string | null; override?: boolean; now?: Date } = {},
): OrderEvent {
  return {
    type: 'OrderStatusUpdated',
    data: {
      order_id: state.id,
      public_id: state.publicId,
      old_status: state.status,
      new_status: to,
      timestamp: (opts.now ?? T0).toISOString(),
      fulfilment_type: state.fulfilmentType,
      store_id: state.storeId,
      version: state.version + 1,
      reason: opts.reason ?? null,
      override: opts.override ?? false,
    },
  };
}

export function shippingUpdated(
  state: OrderState,
  to: ShippingStatus,
  tracking: { code: string | null; url: string | null },
  now: Date = T0,
): OrderEvent {
  return {
    type: 'ShippingStatusUpdated',
    data: {
      order_id: state.id,
      public_id: state.publicId,
      store_id: state.storeId,
      old_shipping_status: state.shippingStatus,
      new_shipping_status: to,
      tracking_code: tracking.code,
      tracking_url: tracking.url,
      timestamp: now.toISOString(),
      version: state.version + 2,
    },
  };
}

