import {
  type Actor,
  type FulfilmentType,
  type OrderState,
  type OrderStatus,
  type Role,
} from '../../src/domain/index.js';
import { asMerchantId, asOrderId, asPublicId, asStoreId } from '../../src/shared/index.js';

/**
 * Order fixtures for decider tests. Built by hand, not by replaying the decider, so that a
 * bug in `decide`/`evolve` cannot hide inside the fixture that is meant to expose it.
 */
export const T0 = new Date('2025-03-01T10:00:00.000Z');
export const PUBLIC_ID = 'pub_3fJk9QwErTyUiOpAsDfGh';
export const TRACKING_CODE = 'TRK-0001';
export const TRACKING_URL = 'https://track.example/TRK-0001';
export const minutesAfterT0 = (m: number) => new Date(T0.getTime() + m * 60_000);

export const actor = (role: Role, userId = 42): Actor => ({ userId, role });

/** A freshly created order: pending, version 1 (OrderCreated), no timestamps. */
export function newOrder(fulfilmentType: FulfilmentType, overrides: Partial<OrderState> = {}): OrderState {
  return {
    id: asOrderId(123),
    publicId: asPublicId(PUBLIC_ID),
    merchantId: asMerchantId(5),
    storeId: asStoreId(77),
    fulfilmentType,
    status: 'pending',
    shippingStatus: fulfilmentType === 'shipping' ? 'pending' : null,
    trackingCode: null,
    trackingUrl: null,
    acceptedAt: null,
    readyAt: null,
    completedAt: null,
    cancelledAt: null,
    rejectedAt: null,
    version: 1,
    ...overrides,
  };
}

const at = (minutes: number) => new Date(T0.getTime() - minutes * 60_000);

/**
 * An order that has reached `status` the ordinary way: the timestamps, shipping status and
 * tracking it would carry by then. Cancelled and rejected orders are taken to have left
 * the line while still pending.
 */
export function orderIn(
  fulfilmentType: FulfilmentType,
  status: OrderStatus,
  overrides: Partial<OrderState> = {},
): OrderState {
  const reached = (s: OrderStatus) => STATUSES_REACHED[status].includes(s);
  const shipped = fulfilmentType === 'shipping' && (status === 'shipped' || status === 'delivered');
  return newOrder(fulfilmentType, {
    status,
    shippingStatus: fulfilmentType === 'shipping' ? (shipped ? (status as 'shipped' | 'delivered') : 'pending') : null,
    trackingCode: shipped ? TRACKING_CODE : null,
    trackingUrl: shipped ? TRACKING_URL : null,
    acceptedAt: reached('accepted') ? at(50) : null,
    readyAt: reached('ready') || reached('shipped') ? at(30) : null,
    completedAt: reached('completed') || reached('delivered') ? at(10) : null,
    cancelledAt: status === 'cancelled' ? at(40) : null,
    rejectedAt: status === 'rejected' ? at(40) : null,
    version: 10,
    ...overrides,
  });
}

const STATUSES_REACHED: Record<OrderStatus, readonly OrderStatus[]> = {
  pending: [],
  accepted: ['accepted'],
  in_progress: ['accepted', 'in_progress'],
  packing: ['accepted', 'packing'],
  ready: ['accepted', 'in_progress', 'ready'],
  shipped: ['accepted', 'packing', 'shipped'],
  completed: ['accepted', 'in_progress', 'ready', 'completed'],
  delivered: ['accepted', 'packing', 'shipped', 'delivered'],
  cancelled: [],
  rejected: [],
};
