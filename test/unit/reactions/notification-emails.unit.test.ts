import { describe, expect, it } from 'vitest';
import type { OrderCreatedData } from '../../../src/domain/index.js';
import { formatMoney, newOrderEmail, orderCancelledEmail, orderShippedEmail } from '../../../src/reactions/index.js';

const order: OrderCreatedData = {
  order_id: 7, public_id: 'abcdefgh12345678901234', merchant_id: 1, store_id: 2, fulfilment_type: 'shipping', status: 'pending',
  customer: { name: 'Ann\r\nBcc: victim@example.test', email: 'ann@example.test', phone: null },
  shipping_address: { line1: '1 Main St', line2: null, city: 'Berlin', postal_code: '10115', region: null, country: 'DE' },
  shipping_method: 'standard',
  items: [{ product_id: 1, name: 'Flat white', unit_price_minor: 380, quantity: 2, line_total_minor: 760 }],
  subtotal_minor: 760, shipping_cost_minor: 490, total_minor: 1250, currency: 'EUR', timestamp: '2025-03-01T09:00:00.000Z', version: 1,
};
const links = { dashboard: 'https://shop.test/stores/2/orders/7', tracking: 'https://shop.test/track/abcdefgh12345678901234' };

describe('notification emails', () => {
  it('formats money in the currency’s own minor units', () => {
    expect(formatMoney(1250, 'EUR')).toBe('€12.50');
    expect(formatMoney(1250, 'JPY')).toBe('¥1,250');
    expect(formatMoney(1250, 'KWD')).toMatch(/^KWD\s1\.250$/);
  });

  it('tells the store about a new order: reference and total in the subject, items and board link in the body', () => {
    const mail = newOrderEmail('shop@example.test', order, 'Riverside', links);
    expect(mail.to).toBe('shop@example.test');
    expect(mail.subject).toBe('New shipping order ABCDEFGH — €12.50');
    expect(mail.text).toContain('2 × Flat white  €7.60');
    expect(mail.text).toContain('Shipping method: standard');
    expect(mail.text.split('\n').at(-1)).toBe(`Open it on the board: ${links.dashboard}`);
  });

  it('turns line breaks a customer typed into spaces, so they cannot add header lines or fake ones', () => {
    const mail = newOrderEmail('shop@example.test', order, 'Riverside', links);
    expect(mail.text).toContain('Customer: Ann Bcc: victim@example.test <ann@example.test>');
    const shipped = orderShippedEmail('ann@example.test', { customerName: 'Ann\nX', publicId: order.public_id, storeName: 'S' }, { code: 'A\r\nB', url: null }, links.tracking);
    expect(shipped.text).toContain('Hello Ann X,');
    expect(shipped.text).toContain('Tracking code: A B');
    expect(shipped.text).not.toContain('Carrier tracking');
  });

  it('tells the customer about a cancellation or a rejection in words that fit', () => {
    const c = { customerName: 'Ann', publicId: order.public_id, storeName: 'Riverside' };
    expect(orderCancelledEmail('a@x.test', c, 'cancelled', links.tracking).subject).toBe('Your order ABCDEFGH has been cancelled');
    expect(orderCancelledEmail('a@x.test', c, 'rejected', links.tracking).subject).toBe('Your order ABCDEFGH could not be accepted');
  });
});
