import type { Address, Customer, OrderItem } from '../../../src/domain/orders/order.js';
import type { FulfilmentType, OrderStatus, ShippingStatus } from '../../../src/domain/orders/order-status.js';
import type { Role } from '../../../src/domain/tenancy/roles.js';

/**
 * The API's answers as the screens use them. Event payload types come from the server's
 * own definitions (type-only imports), so a payload change breaks the build, not the page.
 */
export type { OrderCreatedData, OrderStatusUpdatedData, ShippingStatusUpdatedData } from '../../../src/domain/orders/order-events.js';
export type { FulfilmentType, OrderStatus, ShippingStatus, Role };

export interface StoreAccess {
  store_id: number;
  store_name: string;
  merchant_id: number;
  currency: string;
  role: Role;
}

export interface Me {
  user: { id: number; email: string; name: string; merchant_id?: number };
  csrf_token: string;
  stores: StoreAccess[];
}

/** GET /api/stores/:id/orders and …/orders/:orderId (staff view). */
export interface OrderView {
  id: number;
  public_id: string;
  store_id: number;
  fulfilment_type: FulfilmentType;
  status: OrderStatus;
  shipping_status: ShippingStatus | null;
  allowed_next: OrderStatus[];
  customer: Customer;
  shipping_address: Address | null;
  shipping_method: string | null;
  items: OrderItem[];
  subtotal_minor: number;
  shipping_cost_minor: number;
  total_minor: number;
  currency: string;
  tracking_code: string | null;
  tracking_url: string | null;
  accepted_at: string | null;
  ready_at: string | null;
  completed_at: string | null;
  cancelled_at: string | null;
  rejected_at: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

/** GET /api/track/:publicId: what a customer sees (no internal ids). */
export interface TrackingView {
  public_id: string;
  store_name: string;
  fulfilment_type: FulfilmentType;
  status: OrderStatus;
  shipping_status: ShippingStatus | null;
  items: Array<{ name: string; quantity: number; unit_price_minor: number; line_total_minor: number }>;
  subtotal_minor: number;
  shipping_cost_minor: number;
  total_minor: number;
  currency: string;
  shipping_method: string | null;
  tracking_code: string | null;
  tracking_url: string | null;
  created_at: string;
  accepted_at: string | null;
  ready_at: string | null;
  completed_at: string | null;
  cancelled_at: string | null;
  rejected_at: string | null;
  version: number;
}

export interface Storefront {
  store: { id: number; name: string; currency: string };
  products: Array<{ id: number; name: string; price_minor: number; description?: string | null }>;
  shipping_methods: Array<{ code: string; name: string; price_minor: number }>;
}

export interface NotificationView {
  id: number;
  store_id: number | null;
  kind: string;
  title: string;
  body: string;
  link: string | null;
  created_at: string;
  read_at: string | null;
}

export interface ClientConfig {
  pusher: { key: string; cluster: string };
}
