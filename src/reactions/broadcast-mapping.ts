import type { OrderCreatedData, OrderStatusUpdatedData, ProductUpdatedData, ShippingStatusUpdatedData } from '../domain/index.js';
import { toCustomerEvent, type NotificationCreatedData, type StoredEvent } from '../events/index.js';
import { channelOf } from './broadcast-channels.js';

/**
 * The one mapping from a logged event to what goes on the wire: which channels, under which
 * event name, with which payload. Pure, so it is tested without a server.
 *
 * - The wire name is the log name (Echo: `.listen('.OrderStatusUpdated', …)`).
 * - Every payload carries `position`: the event's checkpoint `"<xid>.<pos>"`, the value the
 *   catch-up endpoints take as `after=` and answer as `checkpoint`. Clients drop a broadcast
 *   whose position they have seen, and after a reconnect ask for what came after the last.
 * - Order payloads carry the order `version` (already in the event); ProductUpdated carries
 *   the product's. Notifications have no version of their own: position is their identity.
 * - Staff channels get the event's payload whole; the customer channel gets the sanitised
 *   copy that GET /api/track/:publicId/events serves (`toCustomerEvent`), nothing more.
 */
export interface Broadcast {
  channel: string;
  name: string;
  payload: Record<string, unknown>;
}

export const BROADCAST_EVENT_NAMES = [
  'OrderCreated',
  'OrderStatusUpdated',
  'ShippingStatusUpdated',
  'ProductUpdated',
  'NotificationCreated',
] as const;

export function broadcastsFor(event: StoredEvent): Broadcast[] {
  const position = event.checkpoint;
  const staff = (channel: string): Broadcast => ({
    channel,
    name: event.name,
    payload: { ...(event.payload as Record<string, unknown>), position },
  });
  switch (event.name) {
    case 'OrderCreated':
      return [staff(channelOf.store((event.payload as OrderCreatedData).store_id, 'orders'))];
    case 'OrderStatusUpdated':
    case 'ShippingStatusUpdated': {
      const p = event.payload as OrderStatusUpdatedData | ShippingStatusUpdatedData;
      const customer = toCustomerEvent(event);
      return [
        staff(channelOf.store(p.store_id, 'orders')),
        ...(customer ? [{ channel: channelOf.customerOrder(p.public_id), name: event.name, payload: { ...customer.payload, position } }] : []),
      ];
    }
    case 'ProductUpdated':
      return [staff(channelOf.store((event.payload as ProductUpdatedData).store_id, 'catalog'))];
    case 'NotificationCreated': {
      const p = event.payload as NotificationCreatedData;
      return [staff(p.store_id === null ? channelOf.merchantNotifications(p.merchant_id) : channelOf.store(p.store_id, 'notifications'))];
    }
    default:
      return [];
  }
}
