import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, type DemoSeed } from '../../src/app/demo-seed.js';
import type { OrderView } from '../../src/store/index.js';
import {
  demoEmail,
  expectError,
  login,
  moveTo,
  orderCommand,
  orderUrl,
  placeOrder,
  startTestApp,
  type OrderCommandArgs,
  type Session,
  type TestApp,
} from '../support/http-app.js';

describe('reading orders and store boundaries over HTTP', () => {
  let t: TestApp;
  let owner: Session;
  let staff: Session;
  let other: DemoSeed;

  beforeAll(async () => {
    t = await startTestApp();
    other = await seedDemo(t.db, { emailDomain: 'other.test', merchantName: 'Other' });
    [owner, staff] = await Promise.all([login(t.http, 'owner'), login(t.http, 'staff')]);
  });
  afterAll(async () => {
    await t?.close();
  });

  const url = orderUrl;
  const command = (...args: OrderCommandArgs) => orderCommand(t.http, ...args);

  describe('reading', () => {
    it('lists the active orders by default and others by status', async () => {
      const active = await placeOrder(t.http, staff);
      let done = await placeOrder(t.http, staff);
      for (const s of ['accepted', 'in_progress', 'ready', 'completed']) done = await moveTo(t.http, staff, done, s);

      const board = await t.http.inject({ method: 'GET', url: '/api/stores/1/orders', headers: staff.headers });
      expect(board.statusCode).toBe(200);
      const ids = (board.json().orders as OrderView[]).map((o) => o.id);
      expect(ids).toContain(active.id);
      expect(ids).not.toContain(done.id);

      const completed = await t.http.inject({ method: 'GET', url: '/api/stores/1/orders?status=completed', headers: staff.headers });
      expect((completed.json().orders as OrderView[]).map((o) => o.id)).toEqual([done.id]);

      const both = await t.http.inject({ method: 'GET', url: '/api/stores/1/orders?status=pending,completed', headers: staff.headers });
      expect((both.json().orders as OrderView[]).map((o) => o.id)).toEqual(expect.arrayContaining([active.id, done.id]));
      for (const o of both.json().orders as OrderView[]) expect(['pending', 'completed']).toContain(o.status);
    });

    it('refuses an unknown status filter with 400', async () => {
      expectError(await t.http.inject({ method: 'GET', url: '/api/stores/1/orders?status=lost', headers: staff.headers }), 'VALIDATION_FAILED');
    });

    it('returns one order with its version as ETag', async () => {
      const order = await placeOrder(t.http, staff);
      const res = await t.http.inject({ method: 'GET', url: url(order), headers: staff.headers });
      expect(res.statusCode).toBe(200);
      expect(res.headers.etag).toBe('"1"');
      expect(res.json().order).toMatchObject({ id: order.id, public_id: order.public_id, status: 'pending', version: 1, allowed_next: ['accepted', 'rejected', 'cancelled'] });
    });

    it('answers an unknown order id with 404 ORDER_NOT_FOUND', async () => {
      expectError(await t.http.inject({ method: 'GET', url: '/api/stores/1/orders/987654', headers: staff.headers }), 'ORDER_NOT_FOUND');
    });

    it.each([
      ['/api/stores/abc/orders'],
      ['/api/stores/1/orders/abc'],
      ['/api/stores/0/orders'],
      ['/api/stores/-1/orders/1'],
      ['/api/stores/1/orders/1.5'],
      ['/api/stores/1/orders/99999999999999999999'],
      ['/api/stores/1/orders/0x10'],
      ['/api/stores/1/orders/1e1'],
      ['/api/stores/%201/orders'],
    ])('answers a non-numeric or out-of-range id in %s with 400', async (path) => {
      expectError(await t.http.inject({ method: 'GET', url: path, headers: staff.headers }), 'VALIDATION_FAILED');
    });

    it('answers a non-numeric order id in a command path with 400', async () => {
      const res = await t.http.inject({
        method: 'PATCH',
        url: '/api/stores/1/orders/abc/status',
        headers: staff.headers,
        payload: { status: 'accepted', version: 1 },
      });
      expectError(res, 'VALIDATION_FAILED');
    });

    it('requires sign-in', async () => {
      expectError(await t.http.inject({ method: 'GET', url: '/api/stores/1/orders' }), 'AUTH_REQUIRED');
    });
  });

  describe('tenancy', () => {
    it("answers another store's order id in my store's path with 404 ORDER_NOT_FOUND", async () => {
      const storeTwoOrder = await placeOrder(t.http, owner, { storeId: 2 });
      const inStoreOne = { ...storeTwoOrder, store_id: 1 };
      expectError(await t.http.inject({ method: 'GET', url: url(inStoreOne), headers: owner.headers }), 'ORDER_NOT_FOUND');
      expectError(await command(owner, inStoreOne, '/status', { status: 'accepted', version: 1 }), 'ORDER_NOT_FOUND');
      expectError(await t.http.inject({ method: 'GET', url: url({ ...storeTwoOrder, store_id: 1 }), headers: staff.headers }), 'ORDER_NOT_FOUND');
      const untouched = await t.http.inject({ method: 'GET', url: url(storeTwoOrder), headers: owner.headers });
      expect(untouched.json().order).toMatchObject({ status: 'pending', version: 1 });
    });

    it('answers a store I am not a member of identically, whether it exists, is unknown or belongs to another merchant', async () => {
      const otherStore = other.storeIds[0];
      const probes = [
        { who: staff, path: '/api/stores/2/orders' },
        { who: staff, path: '/api/stores/99999/orders' },
        { who: staff, path: `/api/stores/${otherStore}/orders` },
        { who: owner, path: `/api/stores/${otherStore}/orders` },
        { who: owner, path: '/api/stores/99999/orders' },
        { who: staff, path: '/api/stores/2/orders/1' },
        { who: staff, path: `/api/stores/${otherStore}/events` },
        { who: staff, path: `/api/stores/${otherStore}/products` },
      ];
      const bodies: string[] = [];
      for (const { who, path } of probes) {
        const res = await t.http.inject({ method: 'GET', url: path, headers: who.headers });
        expectError(res, 'TENANT_FORBIDDEN');
        bodies.push(res.body);
      }
      expect(new Set(bodies).size).toBe(1);
    });

    it("refuses commands on another merchant's order, whatever the path says", async () => {
      const otherOwner = await login(t.http, demoEmail('owner', 'other.test'));
      const theirs = await placeOrder(t.http, otherOwner, { storeId: other.storeIds[0], body: {
        fulfilment_type: 'pickup',
        items: [{ product_id: other.productIds[0], quantity: 1 }],
        customer: { name: 'Bob', email: 'bob@example.test' },
      } });
      expectError(await command(owner, theirs, '/status', { status: 'accepted', version: 1 }), 'TENANT_FORBIDDEN');
      expectError(await command(owner, { ...theirs, store_id: 1 }, '/status', { status: 'accepted', version: 1 }), 'ORDER_NOT_FOUND');
      expectError(await command(otherOwner, { ...theirs, store_id: 1 }, '/status', { status: 'accepted', version: 1 }), 'TENANT_FORBIDDEN');
    });
  });
});
