import { afterAll, beforeAll, expect, it } from 'vitest';
import { START, type EventMetadata } from '../../src/events/index.js';
import { Notifier } from '../../src/reactions/index.js';
import { fixedClock, systemClock } from '../../src/shared/index.js';
import type { OrderView } from '../../src/store/index.js';
import { describeEachAdapter } from '../support/databases.js';
import { startSmtpSink, type SmtpSink } from '../support/delivery-fixtures.js';
import { customer, login, moveTo, orderCommand, placeOrder, startTestApp, type Session, type TestApp } from '../support/http-app.js';
import { waitFor } from '../support/waiting.js';

/**
 * The notifier subscription end to end: real commands over HTTP, the pipeline and the
 * delivery worker running, email through a real SMTP server. In-app notifications and
 * outbox rows are written in the transaction that moves the notifier's checkpoint, so once
 * a notification is visible its email is already queued.
 */
const BASE = 'https://shop.example.test';

await describeEachAdapter('notifier', ({ db: getDb }) => {
  let t: TestApp;
  let smtp: SmtpSink;
  let owner: Session;
  let manager: Session;
  let staff: Session;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await startTestApp({
      database: { db: getDb(), url: null, drop: async () => {} },
      env: {
        SMTP_URL: smtp.url,
        EMAIL_FROM: 'orders@shop.example.test',
        PUBLIC_BASE_URL: `${BASE}/`,
        PIPELINE_POLL_INTERVAL_MS: '20',
        DELIVERY_POLL_INTERVAL_MS: '20',
        DELIVERY_RETRY_BASE_MS: '10',
        DELIVERY_RETRY_MAX_MS: '50',
      },
    });
    await t.flow.start();
    [owner, manager, staff] = await Promise.all([login(t.http, 'owner'), login(t.http, 'manager'), login(t.http, 'staff')]);
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  async function orderEvent(order: OrderView, name: string) {
    const [row] = await t.db.query<{ id: string; metadata: EventMetadata }>(
      'SELECT id::text AS id, metadata FROM events WHERE stream = $1 AND name = $2 ORDER BY stream_version DESC LIMIT 1',
      [`order-${order.id}`, name],
    );
    if (!row) throw new Error(`no ${name} for order ${order.id}`);
    return row;
  }
  const notificationsOf = (sourceEventId: string) =>
    t.db.query<{ user_id: number; kind: string; title: string; link: string }>(
      'SELECT user_id, kind, title, link FROM notifications WHERE source_event_id = $1 ORDER BY user_id',
      [sourceEventId],
    );
  const emailsAbout = (publicId: string, subject: string) =>
    smtp.mails.filter((m) => m.text.includes(publicId) && m.subject.includes(subject));

  async function shipped(order: OrderView, trackingCode: string) {
    let o = await moveTo(t.http, staff, order, 'accepted');
    o = await moveTo(t.http, staff, o, 'packing');
    const res = await orderCommand(t.http, staff, o, '/ship', {
      tracking_code: trackingCode, tracking_url: `https://carrier.example/${trackingCode}`, version: o.version,
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().order as OrderView;
  }

  it('notifies every member of the store in-app about a new order, with a NotificationCreated event caused by it', async () => {
    const order = await placeOrder(t.http, staff);
    const created = await orderEvent(order, 'OrderCreated');

    const rows = await waitFor('in-app notifications', async () => {
      const r = await notificationsOf(created.id);
      return r.length === 3 ? r : null;
    });
    const members = [t.seed.userIds.owner, t.seed.userIds.manager, t.seed.userIds.staff].sort((a, b) => a - b);
    expect(rows.map((r) => r.user_id)).toEqual(members);
    expect(rows[0]).toMatchObject({ kind: 'order_created', title: 'New pickup order', link: `/stores/1/orders/${order.id}` });

    const [event] = await t.db.query<{ name: string; metadata: EventMetadata; payload: Record<string, unknown> }>(
      'SELECT name, metadata, payload FROM events WHERE stream = $1',
      [`notification-order_created:${created.id}`],
    );
    expect(event?.name).toBe('NotificationCreated');
    expect(event?.metadata).toMatchObject({
      merchant_id: t.seed.merchantId, store_id: 1, causation_id: created.id, correlation_id: created.metadata.correlation_id,
      actor: { type: 'system', id: null },
    });
    expect(event?.payload).toMatchObject({ kind: 'order_created', store_id: 1, user_ids: members, source_event_id: created.id });

    const inbox = await t.http.inject({ method: 'GET', url: '/api/notifications?limit=50', headers: staff.headers });
    expect(inbox.statusCode, inbox.body).toBe(200);
    expect(inbox.json().notifications).toContainEqual(expect.objectContaining({ kind: 'order_created', link: `/stores/1/orders/${order.id}`, read_at: null }));
  });

  it("emails the store's notification address about a new order, with the items and a link to the board", async () => {
    const order = await placeOrder(t.http, staff);
    const mail = await waitFor('new-order email', () => smtp.mails.find((m) => m.text.endsWith(`${BASE}/stores/1/orders/${order.id}`)));

    expect(mail.from).toBe('orders@shop.example.test');
    expect(mail.to).toEqual(['riverside@demo.storeflow.test']);
    expect(mail.subject).toBe(`New pickup order ${order.public_id.slice(0, 8).toUpperCase()} — €${(order.total_minor / 100).toFixed(2)}`);
    expect(mail.text).toContain(`Customer: ${customer.name} <${customer.email}>`);
    expect(mail.text).toContain('2 × Flat white');
    expect(mail.text).toContain(`Open it on the board: ${BASE}/stores/1/orders/${order.id}`);
  });

  it('emails the customer once when the order ships, with the tracking code and the tracking page', async () => {
    const order = await shipped(await placeOrder(t.http, staff, { type: 'shipping' }), 'DHL-4711');

    const [mail] = await waitFor('shipped email', () => {
      const found = emailsAbout(order.public_id, 'has shipped');
      return found.length > 0 ? found : null;
    });
    expect(mail!.to).toEqual([customer.email]);
    expect(mail!.subject).toBe(`Your order ${order.public_id.slice(0, 8).toUpperCase()} has shipped`);
    expect(mail!.text).toContain('Tracking code: DHL-4711');
    expect(mail!.text).toContain('Carrier tracking: https://carrier.example/DHL-4711');
    expect(mail!.text).toContain(`Follow your order: ${BASE}/track/${order.public_id}`);
    // Shipping emits OrderStatusUpdated and ShippingStatusUpdated; the customer gets one email.
    const queued = await t.db.query(
      "SELECT 1 FROM deliveries WHERE kind = 'email' AND payload->>'subject' LIKE '%has shipped' AND payload->>'text' LIKE '%' || $1 || '%'",
      [order.public_id],
    );
    expect(queued).toHaveLength(1);
  });

  it('emails the customer when the order is cancelled, without the staff reason', async () => {
    const order = await placeOrder(t.http, staff);
    const res = await orderCommand(t.http, manager, order, '/cancel', { reason: 'suspected fraud', version: order.version });
    expect(res.statusCode, res.body).toBe(200);

    const [mail] = await waitFor('cancelled email', () => {
      const found = emailsAbout(order.public_id, 'has been cancelled');
      return found.length > 0 ? found : null;
    });
    expect(mail!.to).toEqual([customer.email]);
    expect(mail!.text).toContain(`${BASE}/track/${order.public_id}`);
    expect(mail!.text).not.toContain('fraud');
  });

  it('adds no notification, event or email when the notifier is replayed from the start of the log', async () => {
    await shipped(await placeOrder(t.http, staff, { type: 'shipping' }), 'UPS-1');
    const counts = async () => {
      const [row] = await t.db.query<{ notifications: number; deliveries: number; created: number }>(
        `SELECT (SELECT count(*) FROM notifications)::int AS notifications, (SELECT count(*) FROM deliveries)::int AS deliveries,
                (SELECT count(*) FROM events WHERE name = 'NotificationCreated')::int AS created`,
      );
      return row!;
    };
    const caughtUp = async () => {
      const [row] = await t.db.query<{ ok: boolean }>(
        `SELECT (s.checkpoint_tx, s.checkpoint_pos) >= (e.transaction_id, e.position) AS ok
         FROM subscriptions s, (SELECT transaction_id, position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1) e
         WHERE s.name = 'notifier'`,
      );
      return row?.ok === true;
    };
    const handled = async () => {
      const [row] = await t.db.query<{ n: number }>("SELECT handled_count AS n FROM subscriptions WHERE name = 'notifier'");
      return Number(row?.n ?? 0);
    };
    await waitFor('notifier caught up', caughtUp);
    const before = await counts();
    expect(before.created).toBeGreaterThan(0);
    const [wanted] = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM events WHERE name IN ('OrderCreated', 'OrderStatusUpdated', 'ShippingStatusUpdated')",
    );
    const handledBefore = await handled();

    await t.flow.pipelineAdmin.reset('notifier', { checkpoint: START });
    // Every event it wants handled a second time, and the log's end reached again.
    await waitFor('notifier replayed the log', async () => (await handled()) >= handledBefore + wanted!.n && (await caughtUp()));

    expect(await counts()).toEqual(before);
  });
  it('sends no new-order email when the merchant turned that off, and still notifies in-app', async () => {
    const off = await t.http.inject({ method: 'PATCH', url: '/api/notification-settings', headers: owner.headers, payload: { email: { new_order: false } } });
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json().settings).toEqual({ email: { new_order: false, order_shipped: true, order_cancelled: true } });
    try {
      const order = await placeOrder(t.http, staff);
      const created = await orderEvent(order, 'OrderCreated');
      await waitFor('in-app notifications', async () => (await notificationsOf(created.id)).length === 3);
      expect(await t.db.query('SELECT 1 FROM deliveries WHERE source_event_id = $1', [created.id])).toEqual([]);
    } finally {
      await t.http.inject({ method: 'PATCH', url: '/api/notification-settings', headers: owner.headers, payload: { email: { new_order: true } } });
    }
  });

  it('queues no email about an event older than a day (a replay long after the fact)', async () => {
    const order = await placeOrder(t.http, staff);
    const created = await orderEvent(order, 'OrderCreated');
    await waitFor('notifier handled it', async () => (await notificationsOf(created.id)).length === 3);
    await t.db.query('DELETE FROM deliveries WHERE source_event_id = $1', [created.id]);
    const event = await t.flow.log.readById(t.db, created.id);
    const queuedBy = async (clock: { now(): Date }) => {
      const notifier = new Notifier({ log: t.flow.log, clock, publicBaseUrl: BASE });
      return t.db
        .transaction(async (tx) => {
          await notifier.handle(event!, tx);
          const rows = await tx.query('SELECT kind FROM deliveries WHERE source_event_id = $1', [created.id]);
          throw Object.assign(new Error('roll back'), { rows });
        })
        .catch((e: { rows?: unknown[] }) => e.rows);
    };

    expect(await queuedBy(fixedClock(new Date(Date.now() + 25 * 3_600_000)))).toEqual([]);
    expect(await queuedBy(systemClock)).toEqual([{ kind: 'email' }]);
  });
});
