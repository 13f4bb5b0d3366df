import { AppError } from '../../shared/index.js';
import type { Address, Customer, OrderItem } from './order.js';
import type { FulfilmentType } from './order-status.js';

/**
 * Pricing a cart is pure: the catalog and the store's shipping methods come in, the frozen
 * order lines and totals come out. Prices always come from the catalog, never the client.
 */
export interface CatalogProduct {
  id: number;
  name: string;
  price_minor: number;
  currency: string;
  active: boolean;
}

export interface ShippingMethod {
  code: string;
  name: string;
  price_minor: number;
  active: boolean;
}

export interface CheckoutRequest {
  fulfilment_type: FulfilmentType;
  items: { product_id: number; quantity: number }[];
  customer: Customer;
  shipping_address?: Address | null | undefined;
  shipping_method?: string | null | undefined;
}

export interface PricedCheckout {
  fulfilment_type: FulfilmentType;
  items: OrderItem[];
  customer: Customer;
  shipping_address: Address | null;
  shipping_method: string | null;
  subtotal_minor: number;
  shipping_cost_minor: number;
  total_minor: number;
  currency: string;
}

export const MAX_QUANTITY = 999;
export const MAX_LINES = 100;

export function priceCheckout(
  request: CheckoutRequest,
  store: { currency: string; products: readonly CatalogProduct[]; shippingMethods: readonly ShippingMethod[] },
): PricedCheckout {
  const byId = new Map(store.products.map((p) => [p.id, p]));
  const quantities = new Map<number, number>();
  for (const line of request.items) {
    quantities.set(line.product_id, (quantities.get(line.product_id) ?? 0) + line.quantity);
  }
  const items: OrderItem[] = [];
  for (const [productId, quantity] of quantities) {
    const product = byId.get(productId);
    if (!product || !product.active) throw new AppError('CHECKOUT_PRODUCT_UNAVAILABLE', { product_id: productId });
    if (product.currency !== store.currency) {
      throw new AppError('CHECKOUT_CURRENCY_MISMATCH', { product_id: productId, currency: product.currency });
    }
    if (quantity > MAX_QUANTITY) {
      throw new AppError('VALIDATION_FAILED', { field: 'items', issue: `at most ${MAX_QUANTITY} of one product` });
    }
    items.push({
      product_id: product.id,
      name: product.name,
      unit_price_minor: product.price_minor,
      quantity,
      line_total_minor: product.price_minor * quantity,
    });
  }
  const subtotal = items.reduce((sum, i) => sum + i.line_total_minor, 0);

  let shippingAddress: Address | null = null;
  let shippingMethod: ShippingMethod | null = null;
  if (request.fulfilment_type === 'shipping') {
    if (!request.shipping_address) throw new AppError('CHECKOUT_ADDRESS_REQUIRED');
    shippingAddress = request.shipping_address;
    shippingMethod = store.shippingMethods.find((m) => m.code === request.shipping_method && m.active) ?? null;
    if (!shippingMethod) {
      throw new AppError('CHECKOUT_SHIPPING_METHOD_INVALID', {
        shipping_method: request.shipping_method ?? null,
        offered: store.shippingMethods.filter((m) => m.active).map((m) => m.code),
      });
    }
  }
  const shippingCost = shippingMethod?.price_minor ?? 0;
  return {
    fulfilment_type: request.fulfilment_type,
    items,
    customer: request.customer,
    shipping_address: shippingAddress,
    shipping_method: shippingMethod?.code ?? null,
    subtotal_minor: subtotal,
    shipping_cost_minor: shippingCost,
    total_minor: subtotal + shippingCost,
    currency: store.currency,
  };
}
