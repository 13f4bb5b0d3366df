/**
 * The two fulfilment workflows (DESIGN.md §6). Each is a strict line: one step forward at a
 * time, never backward. `cancelled` and `rejected` leave either line and are terminal, as
 * are its last steps.
 */
export const FULFILMENT_TYPES = ['pickup', 'shipping'] as const;
export type FulfilmentType = (typeof FULFILMENT_TYPES)[number];

export const PICKUP_STEPS = ['pending', 'accepted', 'in_progress', 'ready', 'completed'] as const;
export const SHIPPING_STEPS = ['pending', 'accepted', 'packing', 'shipped', 'delivered'] as const;
export const EXIT_STATUSES = ['cancelled', 'rejected'] as const;

export const ORDER_STATUSES = [
  'pending',
  'accepted',
  'in_progress',
  'packing',
  'ready',
  'shipped',
  'completed',
  'delivered',
  'cancelled',
  'rejected',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const SHIPPING_STATUSES = ['pending', 'shipped', 'delivered'] as const;
export type ShippingStatus = (typeof SHIPPING_STATUSES)[number];

export function workflowSteps(type: FulfilmentType): readonly OrderStatus[] {
  return type === 'pickup' ? PICKUP_STEPS : SHIPPING_STEPS;
}

export function isTerminal(status: OrderStatus): boolean {
  return status === 'completed' || status === 'delivered' || status === 'cancelled' || status === 'rejected';
}

/** Statuses an order of this type may ever hold. */
export function statusesOf(type: FulfilmentType): readonly OrderStatus[] {
  return [...workflowSteps(type), ...EXIT_STATUSES];
}

/** The single forward step from `status`, or undefined at the end of the line or off it. */
export function nextStep(type: FulfilmentType, status: OrderStatus): OrderStatus | undefined {
  const steps = workflowSteps(type);
  const i = steps.indexOf(status);
  return i >= 0 ? steps[i + 1] : undefined;
}

/**
 * What may follow `status` for an ordinary (non-override) command, whatever the role:
 * the next step, `cancelled` from any non-terminal state, `rejected` from pending.
 */
export function allowedNext(type: FulfilmentType, status: OrderStatus): OrderStatus[] {
  if (isTerminal(status)) return [];
  const out: OrderStatus[] = [];
  const next = nextStep(type, status);
  if (next) out.push(next);
  if (status === 'pending') out.push('rejected');
  out.push('cancelled');
  return out;
}
