import { z } from 'zod';
import type { OrderCreatedData } from '../domain/index.js';

/**
 * The emails the notifier sends, rendered when they are enqueued (so the worker only sends
 * and a template change never alters a message already queued). Plain text only: nothing a
 * customer typed can become markup. Pure functions, no I/O.
 */
export const emailPayload = z.object({
  to: z.string().min(3).max(254),
  subject: z.string().min(1).max(300),
  text: z.string().max(50_000),
});
export type EmailPayload = z.infer<typeof emailPayload>;

/** Customer-typed text in a header or a line: control characters (line breaks included) become spaces. */
const line = (s: string) => s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();

export function formatMoney(minor: number, currency: string): string {
  const format = new Intl.NumberFormat('en', { style: 'currency', currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(minor / 10 ** digits);
}

/** A short, human order reference (the public id is long and unguessable on purpose). */
export const orderReference = (publicId: string) => publicId.slice(0, 8).toUpperCase();

export interface OrderLinks {
  /** The staff dashboard page of the order. */
  dashboard: string;
  /** The customer's tracking page. */
  tracking: string;
}

export function newOrderEmail(to: string, order: OrderCreatedData, storeName: string, links: OrderLinks): EmailPayload {
  const items = order.items.map(
    (i) => `  ${i.quantity} × ${line(i.name)}  ${formatMoney(i.line_total_minor, order.currency)}`,
  );
  const total = formatMoney(order.total_minor, order.currency);
  return {
    to,
    subject: `New ${order.fulfilment_type} order ${orderReference(order.public_id)} — ${total}`,
    text: [
      `A new ${order.fulfilment_type} order came in at ${line(storeName)}.`,
      '',
      `Customer: ${line(order.customer.name)} <${line(order.customer.email)}>`,
      ...(order.shipping_method ? [`Shipping method: ${line(order.shipping_method)}`] : []),
      '',
      ...items,
      `  Total: ${total}`,
      '',
      `Open it on the board: ${links.dashboard}`,
    ].join('\n'),
  };
}

export interface CustomerOrder {
  customerName: string;
  publicId: string;
  storeName: string;
}

export function orderShippedEmail(
  to: string,
  order: CustomerOrder,
  tracking: { code: string | null; url: string | null },
  trackingPage: string,
): EmailPayload {
  return {
    to,
    subject: `Your order ${orderReference(order.publicId)} has shipped`,
    text: [
      `Hello ${line(order.customerName)},`,
      '',
      `your order from ${line(order.storeName)} is on its way.`,
      ...(tracking.code ? [`Tracking code: ${line(tracking.code)}`] : []),
      ...(tracking.url ? [`Carrier tracking: ${line(tracking.url)}`] : []),
      '',
      `Follow your order: ${trackingPage}`,
    ].join('\n'),
  };
}

export function orderCancelledEmail(to: string, order: CustomerOrder, how: 'cancelled' | 'rejected', trackingPage: string): EmailPayload {
  const what = how === 'cancelled' ? 'has been cancelled' : 'could not be accepted';
  return {
    to,
    subject: `Your order ${orderReference(order.publicId)} ${what}`,
    text: [
      `Hello ${line(order.customerName)},`,
      '',
      `we are sorry: your order from ${line(order.storeName)} ${what}.`,
      '',
      `Order details: ${trackingPage}`,
    ].join('\n'),
  };
}
