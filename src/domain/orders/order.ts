import type { MerchantId, OrderId, PublicId, StoreId } from '../../shared/index.js';
import type { FulfilmentType, OrderStatus, ShippingStatus } from './order-status.js';

/** One line of an order, frozen at checkout. Prices are integers in minor units. */
export interface OrderItem {
  product_id: number;
  name: string;
  unit_price_minor: number;
  quantity: number;
  line_total_minor: number;
}

export interface Customer {
  name: string;
  email: string;
  phone: string | null;
}

export interface Address {
  line1: string;
  line2: string | null;
  city: string;
  postal_code: string;
  region: string | null;
  country: string;
}

/** The part of an order the fulfilment workflow reads and changes. */
export interface OrderState {
  id: OrderId;
  publicId: PublicId;
  merchantId: MerchantId;
  storeId: StoreId;
  fulfilmentType: FulfilmentType;
  status: OrderStatus;
  shippingStatus: ShippingStatus | null;
  trackingCode: string | null;
  trackingUrl: string | null;
  acceptedAt: Date | null;
  readyAt: Date | null;
  completedAt: Date | null;
  cancelledAt: Date | null;
  rejectedAt: Date | null;
  /** Stream version of the order's latest event; OrderCreated is version 1. */
  version: number;
}
