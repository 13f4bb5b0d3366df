import { beforeAll, expect, it } from 'vitest';
import type { DemoSeed } from '../../src/app/demo-seed.js';
import type { Database } from '../../src/store/index.js';
import { describeEachAdapter } from '../support/databases.js';
import {
  ADDRESS,
  CUSTOMER,
  auditRowsOf,
  ctx,
  expectAppError,
  orderFootprint,
  orderRowOf,
  pickupRequest,
  productsOf,
  seedTwoMerchants,
  shippingRequest,
  storeHarness,
  tableCounts,
} from '../support/store-fixtures.js';

/**
 * The checkout contract of the order store (src/store/order-store.ts): prices come from the
 * catalog, the order, its items, one audit row and OrderCreated commit together or not at
 * all, and an idempotency key replays the first order instead of placing a second.
 */
await describeEachAdapter('order store checkout', ({ db: getDb }) => {
  let db: Database;
  let h: ReturnType<typeof storeHarness>;
  let a: DemoSeed;
  let b: DemoSeed;
  let storeA1: number;
  let flatWhite: number; // 380
  let cinnamonBun: number; // 420
  let mug: number; // 1850

  beforeAll(async () => {
    db = getDb();
    h = storeHarness(db);
    ({ a, b } = await seedTwoMerchants(db));
    storeA1 = a.storeIds[0];
    [flatWhite, , cinnamonBun, , mug] = productsOf(a, 0) as [number, number, number, number, number];
  });
  it('prices lines from the catalog and ignores prices the client sends', async () => {
    const request = shippingRequest([
      { product_id: flatWhite, quantity: 2, unit_price_minor: 1, line_total_minor: 2 } as never,
      { product_id: mug, quantity: 1, price_minor: 0 } as never,
    ]);
    const tampered = { ...request, subtotal_minor: 3, shipping_cost_minor: 0, total_minor: 3 } as typeof request;

    const { order, created } = await h.orders.checkout(storeA1, tampered, ctx('req-checkout'));

    expect(created).toBe(true);
    expect(order.items).toEqual([
      { product_id: flatWhite, name: 'Flat white', unit_price_minor: 380, quantity: 2, line_total_minor: 760 },
      { product_id: mug, name: 'Ceramic mug', unit_price_minor: 1850, quantity: 1, line_total_minor: 1850 },
    ]);
    expect(order).toMatchObject({
      subtotal_minor: 2610,
      shipping_cost_minor: 490,
      total_minor: 3100,
      currency: 'EUR',
      status: 'pending',
      shipping_status: 'pending',
      version: 1,
    });
  });

  it('writes the order, its items, one audit row and OrderCreated in one transaction', async () => {
    h.clock.advance(60_000);
    const now = h.clock.now();
    const { order, events } = await h.orders.checkout(
      storeA1,
      pickupRequest([{ product_id: cinnamonBun, quantity: 3 }, { product_id: flatWhite, quantity: 1 }]),
      ctx('req-one-go'),
    );

    expect(order.public_id).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(await orderFootprint(db, order.id)).toEqual({ orders: 1, items: 2, audit: 1, events: 1 });
    const row = await orderRowOf(db, order.id);
    expect(row).toMatchObject({
      merchant_id: a.merchantId,
      store_id: storeA1,
      fulfilment_type: 'pickup',
      status: 'pending',
      shipping_status: null,
      customer_name: CUSTOMER.name,
      customer_email: CUSTOMER.email,
      shipping_address: null,
      total_minor: 3 * 420 + 380,
      version: 1,
      accepted_at: null,
    });
    expect(new Date(row.created_at as Date)).toEqual(now);
    expect(new Date(row.updated_at as Date)).toEqual(now);

    const [audit] = await auditRowsOf(db, order.id);
    expect(audit).toMatchObject({
      action: 'order_created',
      user_id: null,
      store_id: storeA1,
      merchant_id: a.merchantId,
      request_id: 'req-one-go',
      meta: { new_status: 'pending', total_minor: 1640, currency: 'EUR' },
    });

    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      name: 'OrderCreated',
      version: 1,
      stream: `order-${order.id}`,
      stream_version: 1,
      metadata: { merchant_id: a.merchantId, store_id: storeA1, actor: { type: 'customer', id: null }, request_id: 'req-one-go' },
      payload: { order_id: order.id, public_id: order.public_id, status: 'pending', total_minor: 1640, version: 1, items: order.items },
    });

    // Every row carries the id of the transaction that wrote it: they must all be the same one.
    const writers = await db.query<{ xid: string }>(
      `SELECT xmin::text AS xid FROM orders WHERE id = $1
       UNION SELECT xmin::text FROM order_items WHERE order_id = $1
       UNION SELECT xmin::text FROM audit_log WHERE entity = 'order' AND entity_id = $1::text
       UNION SELECT xmin::text FROM events WHERE stream = $2`,
      [order.id, `order-${order.id}`],
    );
    expect(writers).toHaveLength(1);
  });

  it('stores the shipping address and method snapshot of a shipping order', async () => {
    const { order } = await h.orders.checkout(storeA1, shippingRequest([{ product_id: flatWhite, quantity: 1 }], 'express'), ctx());
    const row = await orderRowOf(db, order.id);
    expect(row).toMatchObject({ shipping_address: ADDRESS, shipping_method: 'express', shipping_cost_minor: 990, shipping_status: 'pending' });
  });

  it('returns the same order for a repeated idempotency key, and writes nothing more', async () => {
    const request = pickupRequest([{ product_id: flatWhite, quantity: 2 }]);
    const first = await h.orders.checkout(storeA1, request, { ...ctx(), idempotencyKey: 'idem-same' });
    const counts = await tableCounts(db);

    const again = await h.orders.checkout(storeA1, structuredClone(request), { ...ctx(), idempotencyKey: 'idem-same' });

    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, events: [] });
    expect(again.order).toEqual(first.order);
    expect(await tableCounts(db)).toEqual(counts);
  });

  it('refuses a different body under a used idempotency key', async () => {
    await h.orders.checkout(storeA1, pickupRequest([{ product_id: flatWhite, quantity: 1 }]), { ...ctx(), idempotencyKey: 'idem-reused' });
    const counts = await tableCounts(db);

    await expectAppError(
      h.orders.checkout(storeA1, pickupRequest([{ product_id: flatWhite, quantity: 5 }]), { ...ctx(), idempotencyKey: 'idem-reused' }),
      'IDEMPOTENCY_KEY_REUSED',
    );
    expect(await tableCounts(db)).toEqual(counts);
  });

  it('scopes idempotency keys to the store', async () => {
    const request = pickupRequest([{ product_id: flatWhite, quantity: 1 }]);
    const inA1 = await h.orders.checkout(storeA1, request, { ...ctx(), idempotencyKey: 'idem-per-store' });
    const otherStore = a.storeIds[1];
    const inA2 = await h.orders.checkout(
      otherStore,
      pickupRequest([{ product_id: productsOf(a, 1)[0]!, quantity: 1 }]),
      { ...ctx(), idempotencyKey: 'idem-per-store' },
    );
    expect(inA2.created).toBe(true);
    expect(inA2.order.id).not.toBe(inA1.order.id);
  });

  it('refuses an inactive product and writes nothing', async () => {
    const [retired] = await db.query<{ id: number }>(
      "INSERT INTO products (store_id, name, price_minor, currency, active) VALUES ($1, 'Retired blend', 990, 'EUR', false) RETURNING id",
      [storeA1],
    );
    const counts = await tableCounts(db);

    const err = await expectAppError(
      h.orders.checkout(storeA1, pickupRequest([{ product_id: flatWhite, quantity: 1 }, { product_id: retired!.id, quantity: 1 }]), ctx()),
      'CHECKOUT_PRODUCT_UNAVAILABLE',
    );
    expect(err.details).toEqual({ product_id: retired!.id });
    expect(await tableCounts(db)).toEqual(counts);
  });

  it("refuses another merchant's product and writes nothing", async () => {
    const counts = await tableCounts(db);
    await expectAppError(
      h.orders.checkout(storeA1, pickupRequest([{ product_id: productsOf(b, 0)[0]!, quantity: 1 }]), ctx()),
      'CHECKOUT_PRODUCT_UNAVAILABLE',
    );
    expect(await tableCounts(db)).toEqual(counts);
  });
});
