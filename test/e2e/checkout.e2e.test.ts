import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, type DemoSeed } from '../../src/app/demo-seed.js';
import {
  address,
  cart,
  customer,
  expectError,
  login,
  postCheckout,
  startTestApp,
  type Session,
  type TestApp,
} from '../support/http-app.js';

const BODY_LIMIT = 4096;

describe('checkout over HTTP', () => {
  let t: TestApp;
  let manager: Session;
  let other: DemoSeed;

  beforeAll(async () => {
    t = await startTestApp({ env: { BODY_LIMIT_BYTES: String(BODY_LIMIT) } });
    other = await seedDemo(t.db, { emailDomain: 'other.test', merchantName: 'Other' });
    manager = await login(t.http, 'manager');
  });
  afterAll(async () => {
    await t?.close();
  });

  const staffView = async (publicId: string) => {
    const board = await t.http.inject({ method: 'GET', url: '/api/stores/1/orders?limit=500', headers: manager.headers });
    return (board.json().orders as { public_id: string }[]).find((o) => o.public_id === publicId);
  };

  describe('placing an order', () => {
    it('answers 201 with an unguessable url-safe public id and a tracking link', async () => {
      const res = await postCheckout(t.http, 1, cart('pickup'));
      expect(res.statusCode, res.body).toBe(201);
      const body = res.json();
      expect(body.order.public_id).toMatch(/^[A-Za-z0-9_-]{22,}$/);
      expect(body.order).toMatchObject({ status: 'pending', currency: 'EUR', version: 1 });
      expect(body.tracking_url).toBe(`/track/${body.order.public_id}`);
      expect(Object.keys(body.order)).not.toContain('id');
    });

    it('prices every line from the catalog and adds the shipping method price', async () => {
      const res = await postCheckout(t.http, 1, cart('shipping', { shipping_method: 'express' }));
      expect(res.statusCode, res.body).toBe(201);
      // 2 × Flat white (380) + 1 × Cinnamon bun (420) + express (990)
      expect(res.json().order.total_minor).toBe(2 * 380 + 420 + 990);
      const order = await staffView(res.json().order.public_id);
      expect(order).toMatchObject({
        fulfilment_type: 'shipping',
        subtotal_minor: 1180,
        shipping_cost_minor: 990,
        shipping_method: 'express',
        shipping_address: { ...address, line2: null, region: null },
        items: [
          { product_id: 1, name: 'Flat white', unit_price_minor: 380, quantity: 2, line_total_minor: 760 },
          { product_id: 3, name: 'Cinnamon bun', unit_price_minor: 420, quantity: 1, line_total_minor: 420 },
        ],
      });
    });

    it('refuses client-sent prices or totals as unknown fields (400)', async () => {
      const withPrice = cart('pickup', { items: [{ product_id: 1, quantity: 1, unit_price_minor: 1 }] });
      expectError(await postCheckout(t.http, 1, withPrice), 'VALIDATION_FAILED');
      expectError(await postCheckout(t.http, 1, cart('pickup', { total_minor: 1 })), 'VALIDATION_FAILED');
      expectError(await postCheckout(t.http, 1, cart('pickup', { customer: { ...customer, discount: 100 } })), 'VALIDATION_FAILED');
    });

    it('merges repeated lines of one product', async () => {
      const res = await postCheckout(t.http, 1, cart('pickup', { items: [{ product_id: 2, quantity: 1 }, { product_id: 2, quantity: 2 }] }));
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json().order.total_minor).toBe(3 * 360);
    });
  });

  describe('Idempotency-Key', () => {
    it('replays the same order with 200 when the same key comes with the same body', async () => {
      const key = 'e2e-checkout-replay-0001';
      const first = await postCheckout(t.http, 1, cart('pickup'), { 'idempotency-key': key });
      const again = await postCheckout(t.http, 1, cart('pickup'), { 'idempotency-key': key });
      expect(first.statusCode).toBe(201);
      expect(again.statusCode).toBe(200);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.json()).toEqual(first.json());
      const board = await t.http.inject({ method: 'GET', url: '/api/stores/1/orders?limit=500', headers: manager.headers });
      const copies = (board.json().orders as { public_id: string }[]).filter((o) => o.public_id === first.json().order.public_id);
      expect(copies).toHaveLength(1);
    });

    it('refuses the same key with another body with 422 IDEMPOTENCY_KEY_REUSED', async () => {
      const key = 'e2e-checkout-reuse-0001';
      expect((await postCheckout(t.http, 1, cart('pickup'), { 'idempotency-key': key })).statusCode).toBe(201);
      const changed = cart('pickup', { items: [{ product_id: 1, quantity: 3 }] });
      expectError(await postCheckout(t.http, 1, changed, { 'idempotency-key': key }), 'IDEMPOTENCY_KEY_REUSED');
    });

    it('refuses a malformed key with 400', async () => {
      expectError(await postCheckout(t.http, 1, cart('pickup'), { 'idempotency-key': 'short' }), 'VALIDATION_FAILED');
      expectError(await postCheckout(t.http, 1, cart('pickup'), { 'idempotency-key': 'has spaces in it' }), 'VALIDATION_FAILED');
    });
  });

  describe('bad input', () => {
    it('answers malformed JSON with 400 MALFORMED_JSON', async () => {
      const res = await t.http.inject({
        method: 'POST',
        url: '/api/stores/1/checkout',
        headers: { 'content-type': 'application/json' },
        payload: '{"fulfilment_type": "pickup", "items": [',
      });
      expectError(res, 'MALFORMED_JSON');
    });

    it('answers an empty JSON body with 400', async () => {
      const res = await t.http.inject({
        method: 'POST',
        url: '/api/stores/1/checkout',
        headers: { 'content-type': 'application/json' },
        payload: '',
      });
      expect(res.statusCode).toBe(400);
      expectError(res, res.json().error.code);
    });

    it('answers a body that is not JSON with 415', async () => {
      const res = await t.http.inject({
        method: 'POST',
        url: '/api/stores/1/checkout',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'fulfilment_type=pickup',
      });
      expectError(res, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it.each([
      ['a string quantity', { items: [{ product_id: 1, quantity: '2' }] }],
      ['a non-numeric product id', { items: [{ product_id: 'one', quantity: 1 }] }],
      ['a product id written as a string', { items: [{ product_id: '2', quantity: 1 }] }],
      ['a boolean product id', { items: [{ product_id: true, quantity: 1 }] }],
      ['a product id wrapped in a list', { items: [{ product_id: [2], quantity: 1 }] }],
      ['an unknown fulfilment type', { fulfilment_type: 'drone' }],
      ['items that are not a list', { items: { product_id: 1, quantity: 1 } }],
      ['a customer without email', { customer: { name: 'No Mail' } }],
      ['an invalid email', { customer: { ...customer, email: 'not-an-email' } }],
      ['a blank customer name', { customer: { ...customer, name: '   ' } }],
      ['a numeric customer', { customer: 42 }],
    ])('answers %s with 400 VALIDATION_FAILED', async (_label, overrides) => {
      const res = await postCheckout(t.http, 1, cart('pickup', overrides));
      const err = expectError(res, 'VALIDATION_FAILED');
      expect(err.details?.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path: expect.any(String) })]));
    });

    it.each([
      ['zero', 0],
      ['negative', -1],
      ['fractional', 1.5],
      ['huge', 1_000_000],
      ['beyond the safe integers', 2 ** 60],
    ])('answers a %s quantity with 400', async (_label, quantity) => {
      expectError(await postCheckout(t.http, 1, cart('pickup', { items: [{ product_id: 1, quantity }] })), 'VALIDATION_FAILED');
    });

    it('answers repeated lines that add up past the per-product maximum with 400', async () => {
      const items = [{ product_id: 1, quantity: 999 }, { product_id: 1, quantity: 1 }];
      expectError(await postCheckout(t.http, 1, cart('pickup', { items })), 'VALIDATION_FAILED');
    });

    it('answers an empty cart with 400', async () => {
      expectError(await postCheckout(t.http, 1, cart('pickup', { items: [] })), 'VALIDATION_FAILED');
    });

    it('answers a body larger than BODY_LIMIT_BYTES with 413 PAYLOAD_TOO_LARGE', async () => {
      const body = cart('pickup', { customer: { ...customer, name: 'x'.repeat(BODY_LIMIT + 1) } });
      expectError(await postCheckout(t.http, 1, body), 'PAYLOAD_TOO_LARGE');
    });

    it('answers an unknown product with 422 CHECKOUT_PRODUCT_UNAVAILABLE', async () => {
      const err = expectError(
        await postCheckout(t.http, 1, cart('pickup', { items: [{ product_id: 987654, quantity: 1 }] })),
        'CHECKOUT_PRODUCT_UNAVAILABLE',
      );
      expect(err.details).toEqual({ product_id: 987654 });
    });

    it('answers a product of another store with 422 CHECKOUT_PRODUCT_UNAVAILABLE', async () => {
      const storeTwoProduct = t.seed.productIds[5];
      const otherMerchantProduct = other.productIds[0];
      for (const productId of [storeTwoProduct, otherMerchantProduct]) {
        const res = await postCheckout(t.http, 1, cart('pickup', { items: [{ product_id: productId, quantity: 1 }] }));
        expectError(res, 'CHECKOUT_PRODUCT_UNAVAILABLE');
      }
    });

    it('answers a product a manager deactivated with 422, and sells it again once reactivated', async () => {
      const patch = (active: boolean) =>
        t.http.inject({ method: 'PATCH', url: '/api/stores/1/products/4', headers: manager.headers, payload: { active } });
      expect((await patch(false)).statusCode).toBe(200);
      const items = [{ product_id: 4, quantity: 1 }];
      expectError(await postCheckout(t.http, 1, cart('pickup', { items })), 'CHECKOUT_PRODUCT_UNAVAILABLE');
      expect((await patch(true)).statusCode).toBe(200);
      expect((await postCheckout(t.http, 1, cart('pickup', { items }))).statusCode).toBe(201);
    });

    it('answers a shipping order without an address with 422 CHECKOUT_ADDRESS_REQUIRED', async () => {
      const { shipping_address: _, ...body } = cart('shipping');
      expectError(await postCheckout(t.http, 1, body), 'CHECKOUT_ADDRESS_REQUIRED');
    });

    it('answers a shipping order without a known method with 422 CHECKOUT_SHIPPING_METHOD_INVALID', async () => {
      const { shipping_method: _, ...body } = cart('shipping');
      const err = expectError(await postCheckout(t.http, 1, body), 'CHECKOUT_SHIPPING_METHOD_INVALID');
      expect(err.details?.offered).toEqual(expect.arrayContaining(['standard', 'express']));
      expectError(await postCheckout(t.http, 1, cart('shipping', { shipping_method: 'teleport' })), 'CHECKOUT_SHIPPING_METHOD_INVALID');
    });

    it('answers an unknown store with 404', async () => {
      expectError(await postCheckout(t.http, 99999, cart('pickup')), 'NOT_FOUND');
    });

    it('answers a non-numeric store id with 400', async () => {
      expectError(await postCheckout(t.http, 'abc' as unknown as number, cart('pickup')), 'VALIDATION_FAILED');
    });

    it('leaves no order behind when refused', async () => {
      const before = await t.db.query('SELECT count(*)::int AS n FROM orders');
      await postCheckout(t.http, 1, cart('pickup', { items: [{ product_id: 987654, quantity: 1 }] }));
      await postCheckout(t.http, 1, cart('shipping', { shipping_method: 'teleport' }));
      const after = await t.db.query('SELECT count(*)::int AS n FROM orders');
      expect(after).toEqual(before);
    });
  });
});
