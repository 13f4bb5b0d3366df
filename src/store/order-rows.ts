import { z } from 'zod';
import {
  FULFILMENT_TYPES,
  ORDER_STATUSES,
  SHIPPING_STATUSES,
  allowedNext,
  type OrderItem,
  type OrderState,
} from '../domain/index.js';
import { asMerchantId, asOrderId, asPublicId, asStoreId } from '../shared/index.js';

/** Rows read back are validated at the edge, once, then trusted inside. */
const date = z.coerce.date();
const nullableDate = date.nullable();

export const orderRow = z.object({
  id: z.coerce.number(),
  public_id: z.string(),
  merchant_id: z.coerce.number(),
  store_id: z.coerce.number(),
  fulfilment_type: z.enum(FULFILMENT_TYPES),
  status: z.enum(ORDER_STATUSES),
  shipping_status: z.enum(SHIPPING_STATUSES).nullable(),
  customer_name: z.string(),
  customer_email: z.string(),
  customer_phone: z.string().nullable(),
  shipping_address: z
    .object({
      line1: z.string(),
      line2: z.string().nullable(),
      city: z.string(),
      postal_code: z.string(),
      region: z.string().nullable(),
      country: z.string(),
    })
    .nullable(),
  shipping_method: z.string().nullable(),
  subtotal_minor: z.coerce.number(),
  shipping_cost_minor: z.coerce.number(),
  total_minor: z.coerce.number(),
  currency: z.string(),
  tracking_code: z.string().nullable(),
  tracking_url: z.string().nullable(),
  accepted_at: nullableDate,
  ready_at: nullableDate,
  completed_at: nullableDate,
  cancelled_at: nullableDate,
  rejected_at: nullableDate,
  created_at: date,
  updated_at: date,
  version: z.coerce.number(),
  idempotency_hash: z.string().nullable(),
});
export type OrderRow = z.infer<typeof orderRow>;

export const orderItemRow = z.object({
  order_id: z.coerce.number(),
  product_id: z.coerce.number(),
  name: z.string(),
  unit_price_minor: z.coerce.number(),
  quantity: z.coerce.number(),
  line_total_minor: z.coerce.number(),
});

export function toOrderState(r: OrderRow): OrderState {
  return {
    id: asOrderId(r.id),
    publicId: asPublicId(r.public_id),
    merchantId: asMerchantId(r.merchant_id),
    storeId: asStoreId(r.store_id),
    fulfilmentType: r.fulfilment_type,
    status: r.status,
    shippingStatus: r.shipping_status,
    trackingCode: r.tracking_code,
    trackingUrl: r.tracking_url,
    acceptedAt: r.accepted_at,
    readyAt: r.ready_at,
    completedAt: r.completed_at,
    cancelledAt: r.cancelled_at,
    rejectedAt: r.rejected_at,
    version: r.version,
  };
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The staff view of an order: everything, plus the steps the workflow allows next. */
export function toOrderView(r: OrderRow, items: OrderItem[]) {
  return {
    id: r.id,
    public_id: r.public_id,
    store_id: r.store_id,
    fulfilment_type: r.fulfilment_type,
    status: r.status,
    shipping_status: r.shipping_status,
    allowed_next: allowedNext(r.fulfilment_type, r.status),
    customer: { name: r.customer_name, email: r.customer_email, phone: r.customer_phone },
    shipping_address: r.shipping_address,
    shipping_method: r.shipping_method,
    items,
    subtotal_minor: r.subtotal_minor,
    shipping_cost_minor: r.shipping_cost_minor,
    total_minor: r.total_minor,
    currency: r.currency,
    tracking_code: r.tracking_code,
    tracking_url: r.tracking_url,
    accepted_at: iso(r.accepted_at),
    ready_at: iso(r.ready_at),
    completed_at: iso(r.completed_at),
    cancelled_at: iso(r.cancelled_at),
    rejected_at: iso(r.rejected_at),
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
    version: r.version,
  };
}
export type OrderView = ReturnType<typeof toOrderView>;

/** What a customer may see: no internal numeric ids, no other customers' data. */
export function toTrackingView(v: OrderView, storeName: string) {
  return {
    public_id: v.public_id,
    store_name: storeName,
    fulfilment_type: v.fulfilment_type,
    status: v.status,
    shipping_status: v.shipping_status,
    items: v.items.map(({ name, quantity, unit_price_minor, line_total_minor }) => ({
      name,
      quantity,
      unit_price_minor,
      line_total_minor,
    })),
    subtotal_minor: v.subtotal_minor,
    shipping_cost_minor: v.shipping_cost_minor,
    total_minor: v.total_minor,
    currency: v.currency,
    shipping_method: v.shipping_method,
    tracking_code: v.tracking_code,
    tracking_url: v.tracking_url,
    created_at: v.created_at,
    accepted_at: v.accepted_at,
    ready_at: v.ready_at,
    completed_at: v.completed_at,
    cancelled_at: v.cancelled_at,
    rejected_at: v.rejected_at,
    version: v.version,
  };
}
export type TrackingView = ReturnType<typeof toTrackingView>;
