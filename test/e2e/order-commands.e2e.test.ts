import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
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

describe('order commands over HTTP', () => {
  let t: TestApp;
  let owner: Session;
  let manager: Session;
  let staff: Session;

  beforeAll(async () => {
    t = await startTestApp();
    [owner, manager, staff] = await Promise.all([login(t.http, 'owner'), login(t.http, 'manager'), login(t.http, 'staff')]);
  });
  afterAll(async () => {
    await t?.close();
  });

  const url = orderUrl;
  const command = (...args: OrderCommandArgs) => orderCommand(t.http, ...args);

  describe('the fulfilment workflows', () => {
    it('moves a pickup order pending -> accepted -> in_progress -> ready -> completed', async () => {
      let order = await placeOrder(t.http, staff);
      const seen: string[] = [];
      for (const status of ['accepted', 'in_progress', 'ready', 'completed']) {
        const res = await command(staff, order, '/status', { status, version: order.version });
        expect(res.statusCode, res.body).toBe(200);
        order = res.json().order;
        expect(res.headers.etag).toBe(`"${order.version}"`);
        seen.push(order.status);
      }
      expect(seen).toEqual(['accepted', 'in_progress', 'ready', 'completed']);
      expect(order).toMatchObject({ version: 5, allowed_next: [], shipping_status: null });
      expect(order.accepted_at).not.toBeNull();
      expect(order.ready_at).not.toBeNull();
      expect(order.completed_at).not.toBeNull();
    });

    it('moves a shipping order pending -> accepted -> packing -> shipped (POST /ship) -> delivered', async () => {
      let order = await placeOrder(t.http, staff, { type: 'shipping' });
      order = await moveTo(t.http, staff, order, 'accepted');
      order = await moveTo(t.http, staff, order, 'packing');
      const shipped = await command(staff, order, '/ship', {
        tracking_code: '  PKG-42  ',
        tracking_url: 'https://carrier.example/PKG-42',
        version: order.version,
      });
      expect(shipped.statusCode, shipped.body).toBe(200);
      order = shipped.json().order;
      // shipped emits OrderStatusUpdated and ShippingStatusUpdated: two versions.
      expect(order).toMatchObject({ status: 'shipped', shipping_status: 'shipped', tracking_code: 'PKG-42', version: 5 });
      order = await moveTo(t.http, staff, order, 'delivered');
      expect(order).toMatchObject({ status: 'delivered', shipping_status: 'delivered', version: 7, allowed_next: [] });
      expect(order.completed_at).not.toBeNull();
    });

    it('takes the expected version from If-Match when the body has none', async () => {
      const order = await placeOrder(t.http, staff);
      const res = await command(staff, order, '/status', { status: 'accepted' }, { 'if-match': '"1"' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers.etag).toBe('"2"');
      const next = await command(staff, order, '/status', { status: 'in_progress' }, { 'if-match': res.headers.etag as string });
      expect(next.statusCode, next.body).toBe(200);
    });

    it('answers a command without any version with 428 ORDER_VERSION_REQUIRED', async () => {
      const order = await placeOrder(t.http, staff);
      expectError(await command(staff, order, '/status', { status: 'accepted' }), 'ORDER_VERSION_REQUIRED');
    });

    it('answers an unreadable If-Match with 400', async () => {
      const order = await placeOrder(t.http, staff);
      expectError(await command(staff, order, '/status', { status: 'accepted' }, { 'if-match': '"abc"' }), 'VALIDATION_FAILED');
    });

    it('answers a stale version with 409 ORDER_VERSION_CONFLICT carrying the current order', async () => {
      let order = await placeOrder(t.http, staff);
      order = await moveTo(t.http, staff, order, 'accepted');
      const stale = await command(staff, order, '/status', { status: 'in_progress', version: 1 });
      const err = expectError(stale, 'ORDER_VERSION_CONFLICT');
      expect(err.details).toMatchObject({ expected_version: 1, current_version: 2, order: { id: order.id, status: 'accepted', version: 2 } });
      const viaHeader = await command(staff, order, '/status', { status: 'in_progress' }, { 'if-match': '"1"' });
      expectError(viaHeader, 'ORDER_VERSION_CONFLICT');
    });

    it('answers a skipped or backward step with 422 ORDER_INVALID_TRANSITION and what is allowed', async () => {
      let order = await placeOrder(t.http, staff);
      const skip = expectError(await command(staff, order, '/status', { status: 'ready', version: 1 }), 'ORDER_INVALID_TRANSITION');
      expect(skip.details).toMatchObject({ from: 'pending', to: 'ready', allowed: ['accepted', 'rejected', 'cancelled'] });
      order = await moveTo(t.http, staff, order, 'accepted');
      const back = expectError(await command(staff, order, '/status', { status: 'pending', version: order.version }), 'ORDER_INVALID_TRANSITION');
      expect(back.details).toMatchObject({ from: 'accepted', to: 'pending', allowed: ['in_progress', 'cancelled'] });
      const wrongLine = expectError(await command(staff, order, '/status', { status: 'packing', version: order.version }), 'ORDER_INVALID_TRANSITION');
      expect(wrongLine.details).toMatchObject({ from: 'accepted', to: 'packing' });
    });

    it('answers any step from a terminal status with 422', async () => {
      let order = await placeOrder(t.http, staff);
      for (const s of ['accepted', 'in_progress', 'ready', 'completed']) order = await moveTo(t.http, staff, order, s);
      const err = expectError(await command(manager, order, '/cancel', { reason: 'too late', version: order.version }), 'ORDER_INVALID_TRANSITION');
      expect(err.details).toMatchObject({ from: 'completed', allowed: [] });
    });

    it('answers an unknown status value with 400', async () => {
      const order = await placeOrder(t.http, staff);
      expectError(await command(staff, order, '/status', { status: 'teleported', version: 1 }), 'VALIDATION_FAILED');
      expectError(await command(staff, order, '/status', { status: 'accepted', version: '1' }), 'VALIDATION_FAILED');
    });
  });

  describe('shipping with tracking', () => {
    const packed = async () => {
      let order = await placeOrder(t.http, staff, { type: 'shipping' });
      order = await moveTo(t.http, staff, order, 'accepted');
      return moveTo(t.http, staff, order, 'packing');
    };

    it('answers ship without a tracking code, or a blank one, with 422 ORDER_TRACKING_CODE_REQUIRED', async () => {
      const order = await packed();
      expectError(await command(staff, order, '/ship', { version: order.version }), 'ORDER_TRACKING_CODE_REQUIRED');
      expectError(await command(staff, order, '/ship', { tracking_code: '   ', version: order.version }), 'ORDER_TRACKING_CODE_REQUIRED');
      expectError(await command(staff, order, '/status', { status: 'shipped', version: order.version }), 'ORDER_TRACKING_CODE_REQUIRED');
    });

    it('answers a tracking URL that is not http(s) with 400', async () => {
      const order = await packed();
      for (const trackingUrl of ['ftp://carrier.example/x', 'javascript:alert(1)', 'not a url']) {
        const res = await command(staff, order, '/ship', { tracking_code: 'X1', tracking_url: trackingUrl, version: order.version });
        expectError(res, 'VALIDATION_FAILED');
      }
      const still = await t.http.inject({ method: 'GET', url: url(order), headers: staff.headers });
      expect(still.json().order).toMatchObject({ status: 'packing', version: order.version, tracking_code: null });
    });

    it('ships with PATCH /status as well, given a tracking code', async () => {
      const order = await packed();
      const res = await command(staff, order, '/status', { status: 'shipped', tracking_code: 'VIA-PATCH', version: order.version });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().order).toMatchObject({ status: 'shipped', tracking_code: 'VIA-PATCH', tracking_url: null });
    });
  });

  describe('cancel, reject and override', () => {
    it('lets a manager cancel with a reason, and refuses staff with 403 ROLE_FORBIDDEN', async () => {
      const order = await placeOrder(t.http, staff);
      const byStaff = expectError(await command(staff, order, '/cancel', { reason: 'out of milk', version: 1 }), 'ROLE_FORBIDDEN');
      expect(byStaff.details).toMatchObject({ role: 'staff' });
      expectError(await command(staff, order, '/status', { status: 'cancelled', reason: 'out of milk', version: 1 }), 'ROLE_FORBIDDEN');
      const res = await command(manager, order, '/cancel', { reason: 'out of milk', version: 1 });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().order).toMatchObject({ status: 'cancelled', allowed_next: [] });
      expect(res.json().order.cancelled_at).not.toBeNull();
    });

    it('needs a non-blank reason to cancel or reject (422 ORDER_REASON_REQUIRED)', async () => {
      const order = await placeOrder(t.http, staff);
      expectError(await command(manager, order, '/cancel', { version: 1 }), 'ORDER_REASON_REQUIRED');
      expectError(await command(manager, order, '/cancel', { reason: '   ', version: 1 }), 'ORDER_REASON_REQUIRED');
      expectError(await command(manager, order, '/reject', { version: 1 }), 'ORDER_REASON_REQUIRED');
    });

    it('lets a manager reject a pending order, but not one already accepted', async () => {
      const pending = await placeOrder(t.http, staff);
      expectError(await command(staff, pending, '/reject', { reason: 'closed', version: 1 }), 'ROLE_FORBIDDEN');
      const res = await command(manager, pending, '/reject', { reason: 'closed', version: 1 });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().order.status).toBe('rejected');

      const accepted = await moveTo(t.http, staff, await placeOrder(t.http, staff), 'accepted');
      const err = expectError(await command(manager, accepted, '/reject', { reason: 'closed', version: accepted.version }), 'ORDER_INVALID_TRANSITION');
      expect(err.details).toMatchObject({ from: 'accepted', to: 'rejected' });
    });

    it('lets only the owner override, with a reason', async () => {
      let order = await placeOrder(t.http, staff);
      order = await moveTo(t.http, staff, order, 'accepted');
      for (const who of [staff, manager]) {
        expectError(await command(who, order, '/override', { status: 'completed', reason: 'paid in person', version: order.version }), 'ROLE_FORBIDDEN');
      }
      expectError(await command(owner, order, '/override', { status: 'completed', version: order.version }), 'ORDER_REASON_REQUIRED');
      const res = await command(owner, order, '/override', { status: 'completed', reason: 'paid in person', version: order.version });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().order).toMatchObject({ status: 'completed', version: order.version + 1 });
      const [audit] = await t.db.query(
        "SELECT action, meta FROM audit_log WHERE entity = 'order' AND entity_id = $1 ORDER BY id DESC LIMIT 1",
        [String(order.id)],
      );
      expect(audit).toMatchObject({ action: 'status_overridden', meta: { reason: 'paid in person', role: 'owner' } });
    });

    it('lets the owner move a completed order back with an override', async () => {
      let order = await placeOrder(t.http, staff);
      for (const s of ['accepted', 'in_progress', 'ready', 'completed']) order = await moveTo(t.http, staff, order, s);
      const res = await command(owner, order, '/override', { status: 'ready', reason: 'customer came back', version: order.version });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().order.status).toBe('ready');
    });
  });
});
