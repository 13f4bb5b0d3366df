export * from './tenancy/roles.js';
export * from './orders/order-status.js';
export * from './orders/order.js';
export * from './orders/order-events.js';
export * from './orders/order-decider.js';
export * from './orders/checkout.js';
export * from './catalog/product.js';
export * from './catalog/product-events.js';
