import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoSeed } from '../../src/app/demo-seed.js';
import type { Actor, OrderStatus } from '../../src/domain/index.js';
import { AppError } from '../../src/shared/index.js';
import { PgDatabase, type OrderView } from '../../src/store/index.js';
import { createPostgresDatabase, isCI, probePostgres, type TestDatabase } from '../support/databases.js';
import {
  ctx,
  orderFootprint,
  pickupRequest,
  productsOf,
  seedTwoMerchants,
  shippingRequest,
  storeHarness,
} from '../support/store-fixtures.js';

/**
 * Optimistic concurrency under real parallelism (PostgreSQL only: PGlite runs one statement
 * at a time). N staff act on the same order version at once, each on its own pooled
 * connection; the row lock plus the version check must let exactly one commit.
 */
const RACERS = 16;
const unavailable = isCI ? null : await probePostgres();

describe.skipIf(unavailable !== null)('order commands racing on one version [postgres]', () => {
  let t: TestDatabase;
  let h: ReturnType<typeof storeHarness>;
  let seed: DemoSeed;

  beforeAll(async () => {
    t = await createPostgresDatabase();
    h = storeHarness(t.db);
    seed = (await seedTwoMerchants(t.db)).a;
  });

  afterAll(async () => {
    await t?.drop();
  });

  const staffMember = (i: number): Actor => ({ userId: i % 2 ? seed.userIds.staff : seed.userIds.manager, role: i % 2 ? 'staff' : 'manager' });

  /** Fires RACERS identical commands at `order` at once and checks that exactly one wins. */
  async function race(order: OrderView, to: OrderStatus, extra: Record<string, string> = {}) {
    const before = await orderFootprint(t.db, order.id);
    const outcomes = await Promise.allSettled(
      Array.from({ length: RACERS }, (_, i) =>
        h.orders.execute(order.store_id, order.id, order.version, { type: 'ChangeStatus', to, ...extra }, {
          ...ctx(`race-${to}-${i}`),
          actor: staffMember(i),
        }),
      ),
    );

    const won = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(RACERS - 1);
    const winner = won[0]!;
    for (const e of lost) {
      expect(e, String(e)).toBeInstanceOf(AppError);
      expect((e as AppError).code).toBe('ORDER_VERSION_CONFLICT');
      expect((e as AppError).details).toMatchObject({ expected_version: order.version, current_version: winner.order.version });
      expect((e as AppError & { details: { order: OrderView } }).details.order).toEqual(winner.order);
    }

    const after = await orderFootprint(t.db, order.id);
    expect(after).toEqual({ ...before, audit: before.audit + 1, events: before.events + winner.events.length });
    const stream = await h.log.readStream(t.db, `order-${order.id}`);
    expect(stream.slice(-winner.events.length).map((e) => e.id)).toEqual(winner.events.map((e) => e.id));
    return winner;
  }

  it.each([1, 2, 3])('lets exactly one of 16 parallel commands through at every step of a pickup order (order %i)', async () => {
    let order = (await h.orders.checkout(seed.storeIds[0], pickupRequest([{ product_id: productsOf(seed, 0)[0]!, quantity: 1 }]), ctx())).order;
    for (const to of ['accepted', 'in_progress', 'ready', 'completed'] as const) {
      h.clock.advance(1_000);
      const winner = await race(order, to);
      expect(winner.events).toHaveLength(1);
      expect(winner.order).toMatchObject({ status: to, version: order.version + 1 });
      order = winner.order;
    }
    // The racers really were in flight together: the pool had to open a connection for each.
    expect((t.db as PgDatabase).pool.totalCount).toBeGreaterThanOrEqual(RACERS);
    expect(await orderFootprint(t.db, order.id)).toMatchObject({ audit: 5, events: 5 });
  });

  it('lets exactly one of 16 parallel commands through along a shipping order, including ship', async () => {
    let order = (
      await h.orders.checkout(seed.storeIds[0], shippingRequest([{ product_id: productsOf(seed, 0)[3]!, quantity: 2 }]), ctx())
    ).order;
    for (const to of ['accepted', 'packing', 'shipped', 'delivered'] as const) {
      h.clock.advance(1_000);
      const winner = await race(order, to, to === 'shipped' ? { trackingCode: 'TRK-RACE' } : {});
      expect(winner.order.status).toBe(to);
      order = winner.order;
    }
    expect(order).toMatchObject({ status: 'delivered', shipping_status: 'delivered', tracking_code: 'TRK-RACE', version: 7 });
    expect(await orderFootprint(t.db, order.id)).toMatchObject({ audit: 5, events: 7 });
  });

  it('turns 16 parallel retries of one checkout into one order', async () => {
    const request = pickupRequest([{ product_id: productsOf(seed, 0)[1]!, quantity: 2 }]);
    const results = await Promise.all(
      Array.from({ length: RACERS }, () =>
        h.orders.checkout(seed.storeIds[0], structuredClone(request), { ...ctx(), idempotencyKey: 'race-checkout' }),
      ),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.order.id)).size).toBe(1);
    expect(results.flatMap((r) => r.events).map((e) => e.name)).toEqual(['OrderCreated']);
    expect(await orderFootprint(t.db, results[0]!.order.id)).toEqual({ orders: 1, items: 1, audit: 1, events: 1 });
  });

  it('keeps racing orders apart: commands on different orders all succeed', async () => {
    const orders = await Promise.all(
      Array.from({ length: RACERS }, () =>
        h.orders.checkout(seed.storeIds[1], pickupRequest([{ product_id: productsOf(seed, 1)[2]!, quantity: 1 }]), ctx()),
      ),
    );
    const results = await Promise.all(
      orders.map(({ order }, i) =>
        h.orders.execute(order.store_id, order.id, order.version, { type: 'ChangeStatus', to: 'accepted' }, { ...ctx(), actor: staffMember(i) }),
      ),
    );
    expect(results.map((r) => r.order.status)).toEqual(Array(RACERS).fill('accepted'));
    expect(new Set(orders.map((o) => o.order.public_id)).size).toBe(RACERS);
  });
});
