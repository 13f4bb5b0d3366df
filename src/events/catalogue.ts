import { z } from 'zod';
import {
  FULFILMENT_TYPES,
  ORDER_STATUSES,
  SHIPPING_STATUSES,
  type OrderCreatedData,
  type OrderStatusUpdatedData,
  type ProductUpdatedData,
  type ShippingStatusUpdatedData,
} from '../domain/index.js';
import { AppError } from '../shared/index.js';

/**
 * The event catalogue: every event type the log accepts, with its current version, its
 * zod schema and its category. Appends are validated against it; an event that does not
 * match is refused, never stored.
 */
export type EventCategory = 'domain' | 'integration' | 'system' | 'notification';

export interface EventType<P> {
  name: string;
  version: number;
  category: EventCategory;
  schema: z.ZodType<P>;
}

const id = z.number().int().positive();
const isoTime = z.iso.datetime({ offset: true });
const money = z.number().int().nonnegative();
const status = z.enum(ORDER_STATUSES);

const customer = z.object({ name: z.string(), email: z.string(), phone: z.string().nullable() });
const address = z.object({
  line1: z.string(),
  line2: z.string().nullable(),
  city: z.string(),
  postal_code: z.string(),
  region: z.string().nullable(),
  country: z.string(),
});

export const OrderCreated: EventType<OrderCreatedData> = {
  name: 'OrderCreated',
  version: 1,
  category: 'domain',
  schema: z.strictObject({
    order_id: id,
    public_id: z.string().min(22),
    merchant_id: id,
    store_id: id,
    fulfilment_type: z.enum(FULFILMENT_TYPES),
    status: z.literal('pending'),
    customer,
    shipping_address: address.nullable(),
    shipping_method: z.string().nullable(),
    items: z
      .array(
        z.object({
          product_id: id,
          name: z.string(),
          unit_price_minor: money,
          quantity: z.number().int().positive(),
          line_total_minor: money,
        }),
      )
      .min(1),
    subtotal_minor: money,
    shipping_cost_minor: money,
    total_minor: money,
    currency: z.string().length(3),
    timestamp: isoTime,
    version: z.literal(1),
  }),
};

export const OrderStatusUpdated: EventType<OrderStatusUpdatedData> = {
  name: 'OrderStatusUpdated',
  version: 2,
  category: 'domain',
  schema: z.strictObject({
    order_id: id,
    public_id: z.string(),
    old_status: status,
    new_status: status,
    timestamp: isoTime,
    fulfilment_type: z.enum(FULFILMENT_TYPES),
    store_id: id,
    version: z.number().int().min(2),
    reason: z.string().nullable(),
    override: z.boolean(),
  }),
};

export const ShippingStatusUpdated: EventType<ShippingStatusUpdatedData> = {
  name: 'ShippingStatusUpdated',
  version: 1,
  category: 'domain',
  schema: z.strictObject({
    order_id: id,
    public_id: z.string(),
    store_id: id,
    old_shipping_status: z.enum(SHIPPING_STATUSES).nullable(),
    new_shipping_status: z.enum(SHIPPING_STATUSES),
    tracking_code: z.string().nullable(),
    tracking_url: z.string().nullable(),
    timestamp: isoTime,
    version: z.number().int().min(2),
  }),
};

export const ProductUpdated: EventType<ProductUpdatedData> = {
  name: 'ProductUpdated',
  version: 1,
  category: 'domain',
  schema: z.strictObject({
    product_id: id,
    store_id: id,
    name: z.string(),
    price_minor: money,
    currency: z.string().length(3),
    active: z.boolean(),
    changed: z.array(z.enum(['name', 'price_minor', 'active'])).min(1),
    timestamp: isoTime,
    version: z.number().int().min(2),
  }),
};

export interface NotificationCreatedData {
  notification_key: string;
  merchant_id: number;
  store_id: number | null;
  kind: string;
  title: string;
  body: string;
  link: string | null;
  user_ids: number[];
  source_event_id: string | null;
  timestamp: string;
}

/** An in-app alert for staff, created by the notifier from another event. */
export const NotificationCreated: EventType<NotificationCreatedData> = {
  name: 'NotificationCreated',
  version: 1,
  category: 'notification',
  schema: z.strictObject({
    notification_key: z.string().min(1).max(200),
    merchant_id: id,
    store_id: id.nullable(),
    kind: z.string().min(1).max(100),
    title: z.string().min(1).max(200),
    body: z.string().max(2000),
    link: z.string().max(2000).nullable(),
    user_ids: z.array(id),
    source_event_id: z.uuid().nullable(),
    timestamp: isoTime,
  }),
};

export const EVENT_CATALOGUE: ReadonlyMap<string, EventType<unknown>> = new Map(
  [OrderCreated, OrderStatusUpdated, ShippingStatusUpdated, ProductUpdated, NotificationCreated].map((t) => [
    t.name,
    t as EventType<unknown>,
  ]),
);

/** Validates a payload against its catalogue entry; unknown names and mismatches are refused. */
export function validateEventPayload(name: string, version: number, payload: unknown): void {
  const type = EVENT_CATALOGUE.get(name);
  if (!type || type.version !== version) {
    throw new AppError('EVENT_SCHEMA_INVALID', { name, version, issue: 'unknown event type or version' });
  }
  const result = type.schema.safeParse(payload);
  if (!result.success) {
    throw new AppError('EVENT_SCHEMA_INVALID', { name, version, issues: result.error.issues.slice(0, 5) });
  }
}
