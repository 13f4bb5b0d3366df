import { beforeAll, describe, expect, it } from 'vitest';
import type { DemoSeed } from '../../src/app/demo-seed.js';
import type { Actor, OrderCommand, OrderStatus } from '../../src/domain/index.js';
import { ACTIVE_STATUSES, PG, type Database, type OrderView } from '../../src/store/index.js';
import { describeEachAdapter } from '../support/databases.js';
import {
  auditRowsOf,
  ctx,
  expectAppError,
  expectSqlState,
  orderFootprint,
  orderRowOf,
  pickupRequest,
  productsOf,
  seedTwoMerchants,
  shippingRequest,
  storeHarness,
} from '../support/store-fixtures.js';

/**
 * The order store contract (src/store/order-store.ts, DESIGN.md §6): every fulfilment
 * command is one transaction that writes the order row, one audit row and the command's
 * events — or nothing at all. Snapshots are frozen by the database itself; the board query
 * runs on its index. Checkout has its own suite (order-checkout.int.test.ts).
 */
await describeEachAdapter('order store', ({ db: getDb }) => {
  let db: Database;
  let h: ReturnType<typeof storeHarness>;
  let a: DemoSeed;
  let b: DemoSeed;
  let storeA1: number;
  let flatWhite: number; // 380
  let mug: number; // 1850

  beforeAll(async () => {
    db = getDb();
    h = storeHarness(db);
    ({ a, b } = await seedTwoMerchants(db));
    storeA1 = a.storeIds[0];
    [flatWhite, , , , mug] = productsOf(a, 0) as [number, number, number, number, number];
  });

  const staff = (): Actor => ({ userId: a.userIds.staff, role: 'staff' });
  const change = (to: OrderStatus, extra: Partial<OrderCommand> = {}): OrderCommand =>
    ({ type: 'ChangeStatus', to, ...extra }) as OrderCommand;
  const step = (order: OrderView, command: OrderCommand, actor: Actor = staff()) =>
    h.orders.execute(order.store_id, order.id, order.version, command, { ...ctx(`req-${command.to}`), actor });
  const newPickup = async () =>
    (await h.orders.checkout(storeA1, pickupRequest([{ product_id: flatWhite, quantity: 1 }]), ctx())).order;

  describe('execute', () => {
    it('walks a pickup order to completed: row, timestamps, version, one audit row and one event per command', async () => {
      const created = await newPickup();
      let order = created;
      const stamps: Record<string, Date> = {};

      for (const to of ['accepted', 'in_progress', 'ready', 'completed'] as const) {
        h.clock.advance(60_000);
        stamps[to] = h.clock.now();
        const from = order;
        const result = await step(order, change(to));
        order = result.order;

        expect(order).toMatchObject({ status: to, version: from.version + 1, updated_at: stamps[to]!.toISOString() });
        expect(result.events.map((e) => [e.name, e.stream_version])).toEqual([['OrderStatusUpdated', from.version + 1]]);
        expect(result.events[0]!.payload).toMatchObject({
          order_id: order.id,
          old_status: from.status,
          new_status: to,
          version: order.version,
          timestamp: stamps[to]!.toISOString(),
        });
        expect(result.events[0]!.metadata.actor).toEqual({ type: 'user', id: a.userIds.staff, role: 'staff' });
      }

      const row = await orderRowOf(db, order.id);
      expect(row).toMatchObject({ status: 'completed', version: 5, shipping_status: null, tracking_code: null });
      expect([row.accepted_at, row.ready_at, row.completed_at, row.updated_at].map((d) => new Date(d as Date))).toEqual([
        stamps.accepted,
        stamps.ready,
        stamps.completed,
        stamps.completed,
      ]);
      expect(row.cancelled_at).toBeNull();
      expect(new Date(row.created_at as Date).toISOString()).toBe(created.created_at);

      const audit = await auditRowsOf(db, order.id);
      expect(audit.map((r) => [r.action, r.meta.old_status ?? null, r.meta.new_status, r.user_id])).toEqual([
        ['order_created', null, 'pending', null],
        ['status_changed', 'pending', 'accepted', a.userIds.staff],
        ['status_changed', 'accepted', 'in_progress', a.userIds.staff],
        ['status_changed', 'in_progress', 'ready', a.userIds.staff],
        ['status_changed', 'ready', 'completed', a.userIds.staff],
      ]);
      expect(audit[4]!.meta).toMatchObject({ role: 'staff', from_version: 4, to_version: 5 });
      const stream = await h.log.readStream(db, `order-${order.id}`);
      expect(stream.map((e) => [e.name, e.stream_version])).toEqual([
        ['OrderCreated', 1],
        ['OrderStatusUpdated', 2],
        ['OrderStatusUpdated', 3],
        ['OrderStatusUpdated', 4],
        ['OrderStatusUpdated', 5],
      ]);
    });

    it('walks a shipping order to delivered; ship and deliver also emit ShippingStatusUpdated', async () => {
      let order = (await h.orders.checkout(storeA1, shippingRequest([{ product_id: mug, quantity: 1 }]), ctx())).order;
      const stamps: Record<string, Date> = {};
      const emitted: string[][] = [];

      for (const to of ['accepted', 'packing', 'shipped', 'delivered'] as const) {
        h.clock.advance(60_000);
        stamps[to] = h.clock.now();
        const extra = to === 'shipped' ? { trackingCode: ' TRK-42 ', trackingUrl: 'https://carrier.example/TRK-42' } : {};
        const result = await step(order, change(to, extra));
        order = result.order;
        emitted.push(result.events.map((e) => `${e.name}@${e.stream_version}`));
      }

      expect(emitted).toEqual([
        ['OrderStatusUpdated@2'],
        ['OrderStatusUpdated@3'],
        ['OrderStatusUpdated@4', 'ShippingStatusUpdated@5'],
        ['OrderStatusUpdated@6', 'ShippingStatusUpdated@7'],
      ]);
      const row = await orderRowOf(db, order.id);
      expect(row).toMatchObject({
        status: 'delivered',
        shipping_status: 'delivered',
        tracking_code: 'TRK-42',
        tracking_url: 'https://carrier.example/TRK-42',
        version: 7,
      });
      expect([row.accepted_at, row.ready_at, row.completed_at].map((d) => new Date(d as Date))).toEqual([
        stamps.accepted,
        stamps.shipped,
        stamps.delivered,
      ]);

      const audit = await auditRowsOf(db, order.id);
      expect(audit.map((r) => [r.action, r.meta.old_status ?? null, r.meta.new_status])).toEqual([
        ['order_created', null, 'pending'],
        ['status_changed', 'pending', 'accepted'],
        ['status_changed', 'accepted', 'packing'],
        ['order_shipped', 'packing', 'shipped'],
        ['status_changed', 'shipped', 'delivered'],
      ]);
      expect(audit[3]!.meta).toMatchObject({ tracking_code: 'TRK-42', from_version: 3, to_version: 5 });
      const shipping = (await h.log.readStream(db, `order-${order.id}`)).filter((e) => e.name === 'ShippingStatusUpdated');
      expect(shipping.map((e) => e.payload)).toMatchObject([
        { old_shipping_status: 'pending', new_shipping_status: 'shipped', tracking_code: 'TRK-42' },
        { old_shipping_status: 'shipped', new_shipping_status: 'delivered', tracking_code: 'TRK-42' },
      ]);
    });

    it('writes nothing when the workflow refuses a transition', async () => {
      const order = await newPickup();
      const before = { row: await orderRowOf(db, order.id), footprint: await orderFootprint(db, order.id) };
      h.clock.advance(60_000);

      const err = await expectAppError(step(order, change('completed')), 'ORDER_INVALID_TRANSITION');
      expect(err.details).toMatchObject({ from: 'pending', to: 'completed' });
      await expectAppError(step(order, change('packing')), 'ORDER_INVALID_TRANSITION');
      await expectAppError(step(order, change('cancelled', { reason: 'too late' })), 'ROLE_FORBIDDEN');

      expect(await orderRowOf(db, order.id)).toEqual(before.row);
      expect(await orderFootprint(db, order.id)).toEqual(before.footprint);
    });

    it('refuses a stale expected version with the current order, and writes nothing', async () => {
      const order = await newPickup();
      const accepted = (await step(order, change('accepted'))).order;
      const before = { row: await orderRowOf(db, order.id), footprint: await orderFootprint(db, order.id) };

      const err = await expectAppError(step(order, change('accepted')), 'ORDER_VERSION_CONFLICT');

      expect(err.details).toMatchObject({ expected_version: 1, current_version: 2 });
      expect(err.details?.order).toEqual(accepted);
      expect(await orderRowOf(db, order.id)).toEqual(before.row);
      expect(await orderFootprint(db, order.id)).toEqual(before.footprint);
    });

    it("does not find another store's order, in the same merchant or another", async () => {
      const order = await newPickup();
      const before = await orderFootprint(db, order.id);
      for (const storeId of [a.storeIds[1], b.storeIds[0]]) {
        const other: Actor = { userId: storeId === a.storeIds[1] ? a.userIds.owner : b.userIds.owner, role: 'owner' };
        await expectAppError(
          h.orders.execute(storeId, order.id, order.version, change('accepted'), { ...ctx(), actor: other }),
          'ORDER_NOT_FOUND',
        );
        expect(await h.orders.get(storeId, order.id)).toBeNull();
      }
      expect(await orderFootprint(db, order.id)).toEqual(before);
      expect((await orderRowOf(db, order.id)).status).toBe('pending');
    });

    it('finds an order by its public id, with a customer view that carries no internal ids', async () => {
      const order = await newPickup();
      const found = await h.orders.getByPublicId(order.public_id);
      expect(found?.order).toEqual(order);
      expect(found?.tracking).toMatchObject({ public_id: order.public_id, store_name: 'Demo Coffee — Riverside', status: 'pending' });
      expect(Object.keys(found!.tracking)).not.toContain('id');
      expect(Object.keys(found!.tracking)).not.toContain('store_id');
      expect(await h.orders.getByPublicId('no-such-public-id-000000')).toBeNull();
    });
  });

  describe('snapshot immutability', () => {
    let shipped: OrderView;
    beforeAll(async () => {
      shipped = (await h.orders.checkout(storeA1, shippingRequest([{ product_id: flatWhite, quantity: 1 }]), ctx())).order;
    });

    it.each([
      ['total_minor', 'total_minor = total_minor + 1'],
      ['customer_name', "customer_name = 'Mallory'"],
      ['shipping_address', `shipping_address = '{"line1":"elsewhere"}'::jsonb`],
      ['subtotal_minor', 'subtotal_minor = 0'],
      ['created_at', "created_at = created_at - interval '1 day'"],
    ])('refuses a raw UPDATE of orders.%s with SQLSTATE SF001', async (_column, assignment) => {
      await expectSqlState(db.query(`UPDATE orders SET ${assignment} WHERE id = $1`, [shipped.id]), PG.snapshotImmutable);
      expect((await h.orders.get(storeA1, shipped.id))?.total_minor).toBe(shipped.total_minor);
    });

    it('refuses any UPDATE or DELETE of order_items with SQLSTATE SF001', async () => {
      await expectSqlState(db.query('UPDATE order_items SET quantity = 99 WHERE order_id = $1', [shipped.id]), PG.snapshotImmutable);
      await expectSqlState(db.query('UPDATE order_items SET name = name WHERE order_id = $1', [shipped.id]), PG.snapshotImmutable);
      await expectSqlState(db.query('DELETE FROM order_items WHERE order_id = $1', [shipped.id]), PG.snapshotImmutable);
      expect((await h.orders.get(storeA1, shipped.id))?.items).toEqual(shipped.items);
    });

    it('still lets the workflow columns change', async () => {
      const changed = await db.query<{ id: number }>(
        "UPDATE orders SET updated_at = updated_at + interval '1 second', tracking_url = NULL WHERE id = $1 RETURNING id",
        [shipped.id],
      );
      expect(changed).toEqual([{ id: shipped.id }]);
    });
  });

  describe('operations board', () => {
    it("lists a store's orders in the given statuses, oldest first, with their items", async () => {
      const [store] = await db.query<{ id: number }>(
        "INSERT INTO stores (merchant_id, name, currency) VALUES ($1, 'Board store', 'EUR') RETURNING id",
        [a.merchantId],
      );
      const storeId = store!.id;
      const [p] = await db.query<{ id: number }>(
        "INSERT INTO products (store_id, name, price_minor, currency) VALUES ($1, 'Espresso', 250, 'EUR') RETURNING id",
        [storeId],
      );
      const product = p!.id;
      const placed: OrderView[] = [];
      for (let i = 0; i < 3; i++) {
        h.clock.advance(60_000);
        placed.push((await h.orders.checkout(storeId, pickupRequest([{ product_id: product, quantity: i + 1 }]), ctx())).order);
      }
      const accepted = (await step(placed[1]!, change('accepted'), { userId: a.userIds.owner, role: 'owner' })).order;
      await h.orders.checkout(b.storeIds[1], pickupRequest([{ product_id: productsOf(b, 1)[1]!, quantity: 1 }]), ctx());

      const board = await h.orders.list(storeId, ACTIVE_STATUSES, 50);
      expect(board.map((o) => o.id)).toEqual(placed.map((o) => o.id));
      expect(board[1]).toEqual(accepted);
      expect(board.map((o) => o.items.map((i) => i.quantity))).toEqual([[1], [2], [3]]);
      expect((await h.orders.list(storeId, ['accepted'], 50)).map((o) => o.id)).toEqual([accepted.id]);
      expect((await h.orders.list(storeId, ACTIVE_STATUSES, 2)).map((o) => o.id)).toEqual([placed[0]!.id, placed[1]!.id]);
      expect(await h.orders.list(storeId, ['completed'], 50)).toEqual([]);
    });

    it('answers the board query from idx_orders_store_status', async () => {
      await db.query('ANALYZE orders');
      const plan = await db.transaction(async (tx) => {
        await tx.query('SET LOCAL enable_seqscan = off');
        return tx.query<{ 'QUERY PLAN': unknown }>(
          `EXPLAIN (FORMAT JSON)
           SELECT * FROM orders WHERE store_id = $1 AND status = ANY($2::text[]) ORDER BY created_at, id LIMIT $3`,
          [storeA1, ACTIVE_STATUSES, 50],
        );
      });
      expect(indexNames(plan[0]?.['QUERY PLAN'])).toContain('idx_orders_store_status');
    });
  });
});

/** Every "Index Name" anywhere in an EXPLAIN (FORMAT JSON) plan, whatever the node shapes. */
function indexNames(plan: unknown): string[] {
  const parsed: unknown = typeof plan === 'string' ? JSON.parse(plan) : plan;
  const names: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'Index Name' && typeof value === 'string') names.push(value);
        else walk(value);
      }
    }
  };
  walk(parsed);
  return names;
}
