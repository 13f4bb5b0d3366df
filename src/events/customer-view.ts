import type { StoredEvent } from './envelope.js';

/**
 * What a customer may see of an order's events: the status and shipping updates, without
 * internal numeric ids, staff reasons or anything about the actor. One function serves
 * the tracking catch-up endpoint and the customer broadcast channel, so the two agree.
 */
export const CUSTOMER_EVENT_NAMES = ['OrderStatusUpdated', 'ShippingStatusUpdated'] as const;

const CUSTOMER_FIELDS: Record<(typeof CUSTOMER_EVENT_NAMES)[number], readonly string[]> = {
  OrderStatusUpdated: ['public_id', 'old_status', 'new_status', 'timestamp', 'fulfilment_type', 'version'],
  ShippingStatusUpdated: [
    'public_id',
    'old_shipping_status',
    'new_shipping_status',
    'tracking_code',
    'tracking_url',
    'timestamp',
    'version',
  ],
};

export interface CustomerEvent {
  name: string;
  checkpoint: string;
  payload: Record<string, unknown>;
}

export function toCustomerEvent(event: StoredEvent): CustomerEvent | null {
  const fields = CUSTOMER_FIELDS[event.name as keyof typeof CUSTOMER_FIELDS];
  if (!fields) return null;
  const source = event.payload as Record<string, unknown>;
  const payload: Record<string, unknown> = {};
  for (const f of fields) payload[f] = source[f];
  return { name: event.name, checkpoint: event.checkpoint, payload };
}
