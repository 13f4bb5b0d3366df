import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/app/demo-seed.js';
import { waitFor } from '../support/waiting.js';
import { apiToken, bearer, expectError, login, placeOrder, startTestApp, type Session, type TestApp } from '../support/http-app.js';

interface NotificationView {
  id: number;
  store_id: number | null;
  kind: string;
  title: string;
  body: string;
  link: string | null;
  created_at: string;
  read_at: string | null;
}

/**
 * The in-app notifications API: each user reads and marks only their own; everything else
 * answers as if it did not exist. Notifications come from real orders through the pipeline.
 */
describe('notifications over HTTP', () => {
  let t: TestApp;
  let owner: Session;
  let manager: Session;
  let staff: Session;

  const inbox = async (session: Session, query = '') => {
    const res = await t.http.inject({ method: 'GET', url: `/api/notifications${query}`, headers: session.headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { notifications: NotificationView[]; unread_count: number; next_before: number | null };
  };
  const mark = (session: Session, id: number | string, payload: unknown, headers: Record<string, string> = {}) =>
    t.http.inject({ method: 'PATCH', url: `/api/notifications/${id}`, headers: { ...session.headers, ...headers }, payload: payload as object });

  beforeAll(async () => {
    t = await startTestApp({ env: { PIPELINE_POLL_INTERVAL_MS: '20', DELIVERY_POLL_INTERVAL_MS: '20' } });
    await t.flow.start();
    [owner, manager, staff] = await Promise.all([login(t.http, 'owner'), login(t.http, 'manager'), login(t.http, 'staff')]);
    for (let i = 0; i < 3; i++) await placeOrder(t.http, staff);
    await waitFor('three notifications each', async () => (await t.db.query('SELECT 1 FROM notifications')).length === 9);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists your notifications newest first with the unread count, paged with next_before', async () => {
    const all = await inbox(staff);
    expect(all.unread_count).toBe(3);
    expect(all.notifications).toHaveLength(3);
    expect(all.notifications.map((n) => n.id)).toEqual([...all.notifications.map((n) => n.id)].sort((a, b) => b - a));
    expect(all.notifications[0]).toEqual({
      id: expect.any(Number), store_id: 1, kind: 'order_created', title: 'New pickup order', body: expect.stringContaining('Ada Customer'),
      link: expect.stringMatching(/^\/stores\/1\/orders\/\d+$/), created_at: expect.any(String), read_at: null,
    });

    const first = await inbox(staff, '?limit=2');
    expect(first.notifications.map((n) => n.id)).toEqual(all.notifications.slice(0, 2).map((n) => n.id));
    expect(first.next_before).toBe(all.notifications[1]!.id);
    const second = await inbox(staff, `?limit=2&before=${first.next_before}`);
    expect(second.notifications.map((n) => n.id)).toEqual([all.notifications[2]!.id]);
    expect(second.next_before).toBeNull();
  });

  it('marks one read and unread again; the unread count and the unread filter follow', async () => {
    const [newest] = (await inbox(manager)).notifications;
    const read = await mark(manager, newest!.id, { read: true });
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json().notification).toMatchObject({ id: newest!.id, read_at: expect.any(String) });
    expect(read.json().unread_count).toBe(2);
    expect((await inbox(manager, '?unread=true')).notifications.map((n) => n.id)).not.toContain(newest!.id);

    const unread = await mark(manager, newest!.id, { read: false });
    expect(unread.json()).toMatchObject({ notification: { read_at: null }, unread_count: 3 });
  });

  it('marks all of yours read, and nobody else’s', async () => {
    const res = await t.http.inject({ method: 'POST', url: '/api/notifications/read-all', headers: owner.headers });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ marked: 3, unread_count: 0 });
    expect((await inbox(owner)).unread_count).toBe(0);
    expect((await inbox(staff)).unread_count).toBe(3);
  });

  it("answers another user's notification exactly like a missing one, and leaves it alone", async () => {
    const [staffs] = (await inbox(staff)).notifications;
    const other = expectError(await mark(manager, staffs!.id, { read: true }), 'NOTIFICATION_NOT_FOUND');
    const missing = expectError(await mark(manager, 999_999_999, { read: true }), 'NOTIFICATION_NOT_FOUND');
    expect(other).toEqual(missing);
    expect((await inbox(staff)).notifications[0]).toMatchObject({ id: staffs!.id, read_at: null });
  });

  it("shows a user of another merchant none of this merchant's notifications", async () => {
    await seedDemo(t.db, { emailDomain: 'elsewhere.test', merchantName: 'Elsewhere', password: 'pw-elsewhere-1' });
    const stranger = await login(t.http, 'owner@elsewhere.test', 'pw-elsewhere-1');
    expect(await inbox(stranger)).toEqual({ notifications: [], unread_count: 0, next_before: null });
    const [owners] = (await inbox(owner)).notifications;
    expectError(await mark(stranger, owners!.id, { read: true }), 'NOTIFICATION_NOT_FOUND');
  });

  it('works with a bearer token as well as the session', async () => {
    const token = await apiToken(t.http, staff);
    const res = await t.http.inject({ method: 'GET', url: '/api/notifications', headers: bearer(token) });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().unread_count).toBe(3);
  });

  it('answers 401 without a session and 403 to a cookie-authenticated change without the CSRF token', async () => {
    expectError(await t.http.inject({ method: 'GET', url: '/api/notifications' }), 'AUTH_REQUIRED');
    expectError(await t.http.inject({ method: 'POST', url: '/api/notifications/read-all' }), 'AUTH_REQUIRED');
    const [n] = (await inbox(staff)).notifications;
    expectError(
      await t.http.inject({ method: 'PATCH', url: `/api/notifications/${n!.id}`, headers: { cookie: staff.cookie }, payload: { read: true } }),
      'CSRF_TOKEN_INVALID',
    );
  });

  it('refuses malformed input with 400', async () => {
    const [n] = (await inbox(staff)).notifications;
    const raw = await t.http.inject({
      method: 'PATCH', url: `/api/notifications/${n!.id}`, headers: { ...staff.headers, 'content-type': 'application/json' }, payload: '{"read": tru',
    });
    expectError(raw, 'MALFORMED_JSON');
    for (const body of [{}, { read: 'yes' }, { read: 1 }, { read: null }, { read: true, extra: 1 }, [true]]) {
      expectError(await mark(staff, n!.id, body), 'VALIDATION_FAILED');
    }
    for (const id of ['abc', '0', '-1', '1e3', '0x10']) expectError(await mark(staff, id, { read: true }), 'VALIDATION_FAILED');
    for (const query of ['?limit=0', '?limit=101', '?limit=two', '?before=-5', '?unread=maybe']) {
      expectError(await t.http.inject({ method: 'GET', url: `/api/notifications${query}`, headers: staff.headers }), 'VALIDATION_FAILED');
    }
  });

  describe('notification settings', () => {
    const settings = (session: Session, method: 'GET' | 'PATCH', payload?: unknown) =>
      t.http.inject({ method, url: '/api/notification-settings', headers: session.headers, ...(payload === undefined ? {} : { payload: payload as object }) });

    it('shows the owner the defaults and merges a change into them', async () => {
      const before = await settings(owner, 'GET');
      expect(before.statusCode, before.body).toBe(200);
      expect(before.json()).toEqual({ settings: { email: { new_order: true, order_shipped: true, order_cancelled: true } } });

      const changed = await settings(owner, 'PATCH', { email: { order_cancelled: false } });
      expect(changed.json()).toEqual({ settings: { email: { new_order: true, order_shipped: true, order_cancelled: false } } });
      const again = await settings(owner, 'PATCH', { email: { new_order: false } });
      expect(again.json().settings.email).toEqual({ new_order: false, order_shipped: true, order_cancelled: false });
      const [row] = await t.db.query("SELECT count(*)::int AS n FROM audit_log WHERE action = 'notification_settings_changed'");
      expect(row?.n).toBe(2);
    });

    it('is for owners only', async () => {
      expectError(await settings(manager, 'GET'), 'MERCHANT_OWNER_REQUIRED');
      expectError(await settings(staff, 'PATCH', { email: { new_order: true } }), 'MERCHANT_OWNER_REQUIRED');
      expectError(await t.http.inject({ method: 'GET', url: '/api/notification-settings' }), 'AUTH_REQUIRED');
    });

    it('refuses malformed changes with 400', async () => {
      for (const body of [{ email: { new_order: 'no' } }, { email: { bogus: true } }, { sms: {} }, { email: [] }, [{ email: {} }]]) {
        expectError(await settings(owner, 'PATCH', body), 'VALIDATION_FAILED');
      }
      const raw = await t.http.inject({
        method: 'PATCH', url: '/api/notification-settings', headers: { ...owner.headers, 'content-type': 'application/json' }, payload: '{',
      });
      expectError(raw, 'MALFORMED_JSON');
    });
  });
});
