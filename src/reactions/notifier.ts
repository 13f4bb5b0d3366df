import type { OrderCreatedData, OrderStatusUpdatedData, ShippingStatusUpdatedData } from '../domain/index.js';
import { NotificationCreated, type NewEvent, type NotificationCreatedData, type StoredEvent } from '../events/index.js';
import { BACKGROUND_GATHER_MS, type Subscriber } from '../pipeline/index.js';
import type { Clock } from '../shared/index.js';
import type { EventLog, Sql } from '../store/index.js';
import { deliverySql } from './delivery-outbox.js';
import {
  formatMoney,
  newOrderEmail,
  orderCancelledEmail,
  orderShippedEmail,
  type CustomerOrder,
  type EmailPayload,
} from './notification-emails.js';
import { notificationInbox, type NewNotification } from './notification-inbox.js';
import { notificationSettingsSql } from './notification-settings.js';

export interface NotifierOptions {
  log: EventLog;
  clock: Clock;
  /** Where the web app is served; links in emails and notifications start here. */
  publicBaseUrl: string;
  /**
   * Events older than this send no email (default a day): a replay, or a pipeline that was
   * down for long, must not tell a customer today that their order shipped last month.
   */
  emailMaxAgeMs?: number;
}

const DAY_MS = 24 * 3_600_000;

/**
 * Turns order events into notifications for people:
 * - OrderCreated: an in-app notification for every member of the store (and a
 *   NotificationCreated event for the real-time layer), plus an email to the store's
 *   notification address if the merchant's settings want it;
 * - ShippingStatusUpdated to shipped: "your order has shipped" to the customer, with the
 *   tracking code and the tracking page. (OrderStatusUpdated to shipped is ignored: every
 *   shipment also emits ShippingStatusUpdated, which carries the tracking details, and
 *   answering both would send the customer two emails.)
 * - OrderStatusUpdated to cancelled or rejected: an email to the customer.
 *
 * Runs in the subscription's transaction: it only writes rows (notifications, the
 * `deliveries` outbox, events); the DeliveryWorker sends the emails later. Idempotent: a
 * replayed event finds its notifications, its NotificationCreated stream and its outbox
 * rows already there and adds nothing. Settings are read when the event is handled, so a
 * replay after a settings change may queue an email the first pass did not, unless the
 * event is older than `emailMaxAgeMs`.
 */
export class Notifier implements Subscriber {
  readonly name = 'notifier';
  readonly eventNames = ['OrderCreated', 'OrderStatusUpdated', 'ShippingStatusUpdated'] as const;
  readonly appendsEvents = true;
  readonly gatherMs = BACKGROUND_GATHER_MS;
  private readonly base: string;

  constructor(private readonly o: NotifierOptions) {
    this.base = o.publicBaseUrl.replace(/\/+$/, '');
  }

  async handle(event: StoredEvent, tx: Sql): Promise<void> {
    if (event.name === 'OrderCreated') return this.orderCreated(event as StoredEvent<OrderCreatedData>, tx);
    if (event.name === 'ShippingStatusUpdated') {
      const p = event.payload as ShippingStatusUpdatedData;
      if (p.new_shipping_status !== 'shipped') return;
      const order = await this.customerOrder(tx, p.order_id);
      if (!(await notificationSettingsSql.load(tx, order.merchantId)).email.order_shipped) return;
      const mail = orderShippedEmail(order.email, order, { code: p.tracking_code, url: p.tracking_url }, this.trackingPage(p.public_id));
      return this.email(tx, event, order.merchantId, mail);
    }
    if (event.name === 'OrderStatusUpdated') {
      const p = event.payload as OrderStatusUpdatedData;
      if (p.new_status !== 'cancelled' && p.new_status !== 'rejected') return;
      const order = await this.customerOrder(tx, p.order_id);
      if (!(await notificationSettingsSql.load(tx, order.merchantId)).email.order_cancelled) return;
      return this.email(tx, event, order.merchantId, orderCancelledEmail(order.email, order, p.new_status, this.trackingPage(p.public_id)));
    }
  }

  private async orderCreated(event: StoredEvent<OrderCreatedData>, tx: Sql): Promise<void> {
    const p = event.payload;
    const [store] = await tx.query('SELECT name, notification_email FROM stores WHERE id = $1', [p.store_id]);
    if (!store) throw new Error(`store ${p.store_id} of order ${p.order_id} not found`);
    const members = await tx.query(
      `SELECT m.user_id FROM store_memberships m JOIN users u ON u.id = m.user_id
       WHERE m.store_id = $1 AND u.merchant_id = $2 ORDER BY m.user_id`,
      [p.store_id, p.merchant_id],
    );
    const items = p.items.reduce((n, i) => n + i.quantity, 0);
    await this.notify(tx, event, members.map((m) => Number(m.user_id)), {
      merchantId: p.merchant_id,
      storeId: p.store_id,
      kind: 'order_created',
      title: `New ${p.fulfilment_type} order`,
      body: `${p.customer.name} · ${items} item${items === 1 ? '' : 's'} · ${formatMoney(p.total_minor, p.currency)}`,
      link: `/stores/${p.store_id}/orders/${p.order_id}`,
      sourceEventId: event.id,
    });
    const to = typeof store.notification_email === 'string' ? store.notification_email.trim() : '';
    if (!to || !(await notificationSettingsSql.load(tx, p.merchant_id)).email.new_order) return;
    const links = { dashboard: `${this.base}/stores/${p.store_id}/orders/${p.order_id}`, tracking: this.trackingPage(p.public_id) };
    await this.email(tx, event, p.merchant_id, newOrderEmail(to, p, String(store.name), links));
  }

  /**
   * In-app rows for `userIds` and, the first time only, one NotificationCreated event caused
   * by the source event (its stream is named after the notification, so a replay that finds
   * the stream appends nothing).
   */
  private async notify(tx: Sql, source: StoredEvent, userIds: number[], n: NewNotification): Promise<void> {
    if (userIds.length === 0) return;
    const now = this.o.clock.now();
    const added = await notificationInbox.add(tx, n, userIds, now);
    const key = `${n.kind}:${source.id}`;
    const stream = `notification-${key}`;
    if (added.length === 0 || (await tx.query('SELECT 1 FROM events WHERE stream = $1 LIMIT 1', [stream])).length > 0) return;
    const payload: NotificationCreatedData = {
      notification_key: key,
      merchant_id: n.merchantId,
      store_id: n.storeId,
      kind: n.kind,
      title: n.title,
      body: n.body,
      link: n.link,
      user_ids: added,
      source_event_id: source.id,
      timestamp: now.toISOString(),
    };
    const created: NewEvent<NotificationCreatedData> = {
      name: NotificationCreated.name,
      version: NotificationCreated.version,
      stream,
      stream_version: 1,
      payload,
      metadata: {
        merchant_id: n.merchantId,
        store_id: n.storeId,
        actor: { type: 'system', id: null },
        correlation_id: source.metadata.correlation_id,
        causation_id: source.id,
        request_id: source.metadata.request_id,
      },
    };
    await this.o.log.append(tx, [created]);
  }

  private async email(tx: Sql, source: StoredEvent, merchantId: number, mail: EmailPayload): Promise<void> {
    const age = this.o.clock.now().getTime() - Date.parse(source.timestamp);
    if (age > (this.o.emailMaxAgeMs ?? DAY_MS)) return;
    const to = mail.to.toLowerCase();
    await deliverySql.enqueue(
      tx,
      { kind: 'email', merchantId, target: to, payload: { ...mail, to }, sourceEventId: source.id, eventName: source.name },
      this.o.clock.now(),
    );
  }

  private trackingPage(publicId: string): string {
    return `${this.base}/track/${encodeURIComponent(publicId)}`;
  }

  private async customerOrder(tx: Sql, orderId: number): Promise<CustomerOrder & { email: string; merchantId: number }> {
    const [row] = await tx.query(
      `SELECT o.merchant_id, o.customer_name, o.customer_email, o.public_id, s.name AS store_name
       FROM orders o JOIN stores s ON s.id = o.store_id WHERE o.id = $1`,
      [orderId],
    );
    if (!row) throw new Error(`order ${orderId} not found`);
    return {
      merchantId: Number(row.merchant_id),
      email: String(row.customer_email),
      customerName: String(row.customer_name),
      publicId: String(row.public_id),
      storeName: String(row.store_name),
    };
  }
}
