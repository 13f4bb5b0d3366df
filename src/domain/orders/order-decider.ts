import { AppError } from '../../shared/index.js';
import { roleAllows, type Actor, type StoreAction } from '../tenancy/roles.js';
import type { OrderEvent } from './order-events.js';
import type { OrderState } from './order.js';
import {
  allowedNext,
  isTerminal,
  statusesOf,
  type OrderStatus,
  type ShippingStatus,
} from './order-status.js';

/**
 * The fulfilment decider: `decide` turns a command and the current order into events or a
 * refusal (an AppError); `evolve` folds an event into the order. Pure: the actor and the
 * time come in, nothing goes out but the return value.
 */
export interface TrackingInput {
  trackingCode?: string | undefined;
  trackingUrl?: string | undefined;
}

export type OrderCommand =
  /** Move to `to`: the next step, `shipped` (with tracking), `cancelled` or `rejected` (with reason). */
  | ({ type: 'ChangeStatus'; to: OrderStatus; reason?: string | undefined } & TrackingInput)
  /** Owner only: jump to any status of the order's workflow, with a reason. */
  | ({ type: 'OverrideStatus'; to: OrderStatus; reason: string } & TrackingInput);

export interface DecideContext {
  actor: Actor;
  now: Date;
}

export const TRACKING_CODE_MAX = 100;
export const REASON_MAX = 500;

export function decide(command: OrderCommand, state: OrderState, ctx: DecideContext): OrderEvent[] {
  switch (command.type) {
    case 'ChangeStatus':
      return decideChange(command, state, ctx);
    case 'OverrideStatus':
      return decideOverride(command, state, ctx);
  }
}

function decideChange(
  command: Extract<OrderCommand, { type: 'ChangeStatus' }>,
  state: OrderState,
  ctx: DecideContext,
): OrderEvent[] {
  const { to } = command;
  requireRole(ctx.actor, actionFor(to));
  if (!allowedNext(state.fulfilmentType, state.status).includes(to)) refuse(state, to);
  let reason: string | null = null;
  if (to === 'cancelled' || to === 'rejected') reason = requireReason(command.reason);
  const tracking = to === 'shipped' ? requireTracking(command) : undefined;
  return statusEvents(state, to, ctx.now, { reason, override: false, tracking });
}

function decideOverride(
  command: Extract<OrderCommand, { type: 'OverrideStatus' }>,
  state: OrderState,
  ctx: DecideContext,
): OrderEvent[] {
  requireRole(ctx.actor, 'order.override');
  const reason = requireReason(command.reason);
  const { to } = command;
  if (to === state.status || !statusesOf(state.fulfilmentType).includes(to)) refuse(state, to);
  let tracking: Tracking | undefined;
  if (to === 'shipped' || to === 'delivered') {
    tracking = command.trackingCode !== undefined || !state.trackingCode ? requireTracking(command) : undefined;
  }
  return statusEvents(state, to, ctx.now, { reason, override: true, tracking });
}

function actionFor(to: OrderStatus): StoreAction {
  if (to === 'cancelled') return 'order.cancel';
  if (to === 'rejected') return 'order.reject';
  return 'order.advance';
}

interface Tracking {
  code: string;
  url: string | null;
}

function statusEvents(
  state: OrderState,
  to: OrderStatus,
  now: Date,
  opts: { reason: string | null; override: boolean; tracking: Tracking | undefined },
): OrderEvent[] {
  const timestamp = now.toISOString();
  const events: OrderEvent[] = [
    {
      type: 'OrderStatusUpdated',
      data: {
        order_id: state.id,
        public_id: state.publicId,
        old_status: state.status,
        new_status: to,
        timestamp,
        fulfilment_type: state.fulfilmentType,
        store_id: state.storeId,
        version: state.version + 1,
        reason: opts.reason,
        override: opts.override,
      },
    },
  ];
  const newShipping = shippingStatusFor(state, to);
  // shipped and delivered always emit (DESIGN.md §6), even when an override lands on the
  // shipping status the order kept through a cancel: else its new tracking would be lost.
  const entersShippingStep = to === 'shipped' || to === 'delivered';
  if (newShipping !== null && (newShipping !== state.shippingStatus || entersShippingStep)) {
    events.push({
      type: 'ShippingStatusUpdated',
      data: {
        order_id: state.id,
        public_id: state.publicId,
        store_id: state.storeId,
        old_shipping_status: state.shippingStatus,
        new_shipping_status: newShipping,
        tracking_code: opts.tracking?.code ?? state.trackingCode,
        tracking_url: opts.tracking ? opts.tracking.url : state.trackingUrl,
        timestamp,
        version: state.version + 2,
      },
    });
  }
  return events;
}

/** Shipping orders carry a shipping status that follows the workflow; pickup orders none. */
function shippingStatusFor(state: OrderState, to: OrderStatus): ShippingStatus | null {
  if (state.fulfilmentType !== 'shipping') return null;
  if (to === 'shipped' || to === 'delivered') return to;
  if (to === 'cancelled' || to === 'rejected') return state.shippingStatus;
  return 'pending';
}

export function evolve(state: OrderState, event: OrderEvent): OrderState {
  switch (event.type) {
    case 'OrderCreated':
      return state;
    case 'OrderStatusUpdated': {
      const to = event.data.new_status;
      const at = new Date(event.data.timestamp);
      return {
        ...state,
        status: to,
        acceptedAt: to === 'accepted' ? (state.acceptedAt ?? at) : state.acceptedAt,
        readyAt: to === 'ready' || to === 'shipped' ? (state.readyAt ?? at) : state.readyAt,
        completedAt: to === 'completed' || to === 'delivered' ? (state.completedAt ?? at) : state.completedAt,
        cancelledAt: to === 'cancelled' ? (state.cancelledAt ?? at) : state.cancelledAt,
        rejectedAt: to === 'rejected' ? (state.rejectedAt ?? at) : state.rejectedAt,
        version: event.data.version,
      };
    }
    case 'ShippingStatusUpdated':
      return {
        ...state,
        shippingStatus: event.data.new_shipping_status,
        trackingCode: event.data.tracking_code,
        trackingUrl: event.data.tracking_url,
        version: event.data.version,
      };
  }
}

export const evolveAll = (state: OrderState, events: readonly OrderEvent[]): OrderState => events.reduce(evolve, state);

function requireRole(actor: Actor, action: StoreAction): void {
  if (!roleAllows(actor.role, action)) throw new AppError('ROLE_FORBIDDEN', { role: actor.role, action });
}

function refuse(state: OrderState, to: OrderStatus): never {
  throw new AppError('ORDER_INVALID_TRANSITION', {
    from: state.status,
    to,
    allowed: allowedNext(state.fulfilmentType, state.status),
    terminal: isTerminal(state.status),
  }, `An order that is ${state.status} cannot move to ${to}.`);
}

function requireReason(reason: string | undefined): string {
  const r = reason?.trim() ?? '';
  if (r.length === 0 || r.length > REASON_MAX) throw new AppError('ORDER_REASON_REQUIRED', { max_length: REASON_MAX });
  return r;
}

function requireTracking(input: TrackingInput): Tracking {
  const code = input.trackingCode?.trim() ?? '';
  if (code.length === 0 || code.length > TRACKING_CODE_MAX) {
    throw new AppError('ORDER_TRACKING_CODE_REQUIRED', { max_length: TRACKING_CODE_MAX });
  }
  const url = input.trackingUrl?.trim() || null;
  if (url !== null && !isHttpUrl(url)) {
    throw new AppError('VALIDATION_FAILED', { field: 'tracking_url', issue: 'must be an http or https URL' });
  }
  return { code, url };
}

function isHttpUrl(s: string): boolean {
  if (!URL.canParse(s)) return false;
  const { protocol } = new URL(s);
  return protocol === 'http:' || protocol === 'https:';
}

