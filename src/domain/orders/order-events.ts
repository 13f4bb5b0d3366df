import type { Address, Customer, OrderItem } from './order.js';
import type { FulfilmentType, OrderStatus, ShippingStatus } from './order-status.js';

/**
 * Domain events of one order stream. The payload shapes are the public contract: they are
 * what the log stores and (sanitised per channel) what browsers receive. Every payload
 * carries `version`, the order's stream version after that event, so consumers can drop
 * duplicates and notice gaps.
 */
export interface OrderCreatedData {
  order_id: number;
  public_id: string;
  merchant_id: number;
  store_id: number;
  fulfilment_type: FulfilmentType;
  status: 'pending';
  customer: Customer;
  shipping_address: Address | null;
  shipping_method: string | null;
  items: OrderItem[];
  subtotal_minor: number;
  shipping_cost_minor: number;
  total_minor: number;
  currency: string;
  timestamp: string;
  version: number;
}

/** Seed 002 §12, plus version, the reason for cancel/reject/override, and the override flag. */
export interface OrderStatusUpdatedData {
  order_id: number;
  public_id: string;
  old_status: OrderStatus;
  new_status: OrderStatus;
  timestamp: string;
  fulfilment_type: FulfilmentType;
  store_id: number;
  version: number;
  reason: string | null;
  override: boolean;
}

export interface ShippingStatusUpdatedData {
  order_id: number;
  public_id: string;
  store_id: number;
  old_shipping_status: ShippingStatus | null;
  new_shipping_status: ShippingStatus;
  tracking_code: string | null;
  tracking_url: string | null;
  timestamp: string;
  version: number;
}

export type OrderEvent =
  | { type: 'OrderCreated'; data: OrderCreatedData }
  | { type: 'OrderStatusUpdated'; data: OrderStatusUpdatedData }
  | { type: 'ShippingStatusUpdated'; data: ShippingStatusUpdatedData };
