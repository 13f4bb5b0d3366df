import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/app/demo-seed.js';
import { fixedClock } from '../../src/shared/index.js';
import {
  apiToken,
  bearer,
  demoEmail,
  expectError,
  login,
  placeOrder,
  startTestApp,
  type TestApp,
} from '../support/http-app.js';

const MAX_FAILURES = 3;
const SESSION_TTL_HOURS = 2;
const LOCK_MINUTES = 10;

describe('authentication over HTTP', () => {
  let t: TestApp;
  const clock = fixedClock('2025-03-01T09:00:00.000Z');

  beforeAll(async () => {
    t = await startTestApp({
      clock,
      env: {
        LOGIN_MAX_FAILURES: String(MAX_FAILURES),
        LOGIN_LOCK_MINUTES: String(LOCK_MINUTES),
        SESSION_TTL_HOURS: String(SESSION_TTL_HOURS),
      },
    });
    // A second merchant whose users this suite may lock out without disturbing the demo users.
    await seedDemo(t.db, { emailDomain: 'other.test', merchantName: 'Other' });
  });
  afterAll(async () => {
    await t?.close();
  });

  const loginAs = (email: string, password: string) =>
    t.http.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } });

  describe('signing in', () => {
    it('sets an httpOnly SameSite session cookie and returns the CSRF token and stores', async () => {
      const res = await loginAs(demoEmail('manager'), 'storeflow-demo');
      expect(res.statusCode).toBe(200);
      const cookie = res.cookies.find((c) => c.name === 'sf_session');
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
      expect(cookie?.value.length).toBeGreaterThanOrEqual(20);
      const body = res.json();
      expect(body.user).toMatchObject({ email: demoEmail('manager') });
      expect(body.csrf_token).toEqual(expect.any(String));
      expect(body.stores.map((s: { store_id: number; role: string }) => [s.store_id, s.role])).toEqual([[1, 'manager']]);
    });

    it('answers a wrong password and an unknown email alike', async () => {
      const wrongPassword = await loginAs(demoEmail('staff'), 'not-the-password');
      const unknownEmail = await loginAs('nobody@demo.storeflow.test', 'storeflow-demo');
      expectError(wrongPassword, 'AUTH_INVALID_CREDENTIALS');
      expectError(unknownEmail, 'AUTH_INVALID_CREDENTIALS');
      expect(wrongPassword.body).toBe(unknownEmail.body);
      expect(wrongPassword.cookies).toEqual([]);
      // The failure above must not linger: the right password still works.
      await login(t.http, 'staff');
    });

    it('locks the account after LOGIN_MAX_FAILURES wrong passwords, even for the right one', async () => {
      const email = demoEmail('staff', 'other.test');
      for (let i = 0; i < MAX_FAILURES; i++) {
        expectError(await loginAs(email, `wrong-${i}`), 'AUTH_INVALID_CREDENTIALS');
      }
      const locked = await loginAs(email, 'storeflow-demo');
      const err = expectError(locked, 'AUTH_ACCOUNT_LOCKED');
      expect(err.details?.retry_after_seconds).toEqual(expect.any(Number));
      expect(locked.cookies).toEqual([]);
      expectError(await loginAs(email, 'wrong-again'), 'AUTH_ACCOUNT_LOCKED');
      // Other users are not affected by one account's lock.
      await login(t.http, demoEmail('manager', 'other.test'));
    });

    it('locks an unknown email exactly like a real account, so a lock reveals no account', async () => {
      const known = demoEmail('owner', 'other.test');
      const unknown = 'nobody-at-all@other.test';
      for (let i = 0; i < MAX_FAILURES; i++) {
        expectError(await loginAs(known, `wrong-${i}`), 'AUTH_INVALID_CREDENTIALS');
        expectError(await loginAs(unknown, `wrong-${i}`), 'AUTH_INVALID_CREDENTIALS');
      }
      const a = expectError(await loginAs(known, 'storeflow-demo'), 'AUTH_ACCOUNT_LOCKED');
      const b = expectError(await loginAs(unknown, 'storeflow-demo'), 'AUTH_ACCOUNT_LOCKED');
      expect(Object.keys(a.details ?? {})).toEqual(Object.keys(b.details ?? {}));
      expect(a.message).toBe(b.message);
      clock.advance(LOCK_MINUTES * 60_000 + 1_000);
    });

    it('starts counting afresh after a lock expires: one more wrong password does not re-lock', async () => {
      const email = demoEmail('staff');
      for (let i = 0; i < MAX_FAILURES; i++) expectError(await loginAs(email, `wrong-${i}`), 'AUTH_INVALID_CREDENTIALS');
      clock.advance(LOCK_MINUTES * 60_000 + 1_000);
      expectError(await loginAs(email, 'wrong-after-lock'), 'AUTH_INVALID_CREDENTIALS');
      await login(t.http, email);
    });

    it('lets the right password in again once the lock has expired', async () => {
      const email = demoEmail('manager', 'other.test');
      for (let i = 0; i < MAX_FAILURES; i++) expectError(await loginAs(email, `wrong-${i}`), 'AUTH_INVALID_CREDENTIALS');
      expectError(await loginAs(email, 'storeflow-demo'), 'AUTH_ACCOUNT_LOCKED');
      clock.advance(LOCK_MINUTES * 60_000 + 1_000);
      await login(t.http, email);
    });

    it('rejects a login body with unknown fields', async () => {
      const res = await t.http.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { email: demoEmail('owner'), password: 'storeflow-demo', remember: true },
      });
      expectError(res, 'VALIDATION_FAILED');
    });
  });

  describe('the session', () => {
    it('GET /api/me returns the signed-in user, their merchant and stores', async () => {
      const owner = await login(t.http, 'owner');
      const res = await t.http.inject({ method: 'GET', url: '/api/me', headers: { cookie: owner.cookie } });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.user).toMatchObject({ email: demoEmail('owner'), merchant_id: t.seed.merchantId });
      expect(body.csrf_token).toBe(owner.csrf);
      expect(body.stores.map((s: { store_id: number }) => s.store_id)).toEqual(t.seed.storeIds);
    });

    it('GET /api/me without a session answers 401 AUTH_REQUIRED', async () => {
      expectError(await t.http.inject({ method: 'GET', url: '/api/me' }), 'AUTH_REQUIRED');
    });

    it('logout ends the session: the same cookie no longer signs in', async () => {
      const staff = await login(t.http, 'staff');
      const out = await t.http.inject({ method: 'POST', url: '/api/auth/logout', headers: staff.headers });
      expect(out.statusCode).toBe(204);
      expect(out.cookies.find((c) => c.name === 'sf_session')?.value).toBe('');
      expectError(await t.http.inject({ method: 'GET', url: '/api/me', headers: { cookie: staff.cookie } }), 'AUTH_REQUIRED');
    });

    it('a forged session cookie answers 401', async () => {
      const forged = { cookie: 'sf_session=sfs_forged0000000000000000000000000000' };
      expectError(await t.http.inject({ method: 'GET', url: '/api/me', headers: forged }), 'AUTH_REQUIRED');
      expectError(await t.http.inject({ method: 'GET', url: '/api/stores/1/orders', headers: forged }), 'AUTH_REQUIRED');
    });

    it('an expired session cookie answers 401', async () => {
      const staff = await login(t.http, 'staff');
      expect((await t.http.inject({ method: 'GET', url: '/api/me', headers: { cookie: staff.cookie } })).statusCode).toBe(200);
      clock.advance(SESSION_TTL_HOURS * 3_600_000 + 1_000);
      expectError(await t.http.inject({ method: 'GET', url: '/api/me', headers: { cookie: staff.cookie } }), 'AUTH_REQUIRED');
      expectError(
        await t.http.inject({ method: 'POST', url: '/api/auth/tokens', headers: staff.headers, payload: { name: 'late' } }),
        'AUTH_REQUIRED',
      );
    });
  });

  describe('CSRF protection of cookie-authenticated changes', () => {
    it('refuses a change without X-CSRF-TOKEN with 403 CSRF_TOKEN_INVALID', async () => {
      const manager = await login(t.http, 'manager');
      const order = await placeOrder(t.http, manager);
      const res = await t.http.inject({
        method: 'PATCH',
        url: `/api/stores/1/orders/${order.id}/status`,
        headers: { cookie: manager.cookie },
        payload: { status: 'accepted', version: order.version },
      });
      expectError(res, 'CSRF_TOKEN_INVALID');
    });

    it('refuses a change with a wrong X-CSRF-TOKEN, including another session\'s token', async () => {
      const manager = await login(t.http, 'manager');
      const other = await login(t.http, 'manager');
      const order = await placeOrder(t.http, manager);
      for (const token of ['wrong-token', other.csrf]) {
        const res = await t.http.inject({
          method: 'PATCH',
          url: `/api/stores/1/orders/${order.id}/status`,
          headers: { cookie: manager.cookie, 'x-csrf-token': token },
          payload: { status: 'accepted', version: order.version },
        });
        expectError(res, 'CSRF_TOKEN_INVALID');
      }
      const unchanged = await t.http.inject({ method: 'GET', url: `/api/stores/1/orders/${order.id}`, headers: { cookie: manager.cookie } });
      expect(unchanged.json().order).toMatchObject({ status: 'pending', version: order.version });
    });

    it('refuses logout and token creation without the CSRF token', async () => {
      const staff = await login(t.http, 'staff');
      expectError(await t.http.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie: staff.cookie } }), 'CSRF_TOKEN_INVALID');
      expectError(
        await t.http.inject({ method: 'POST', url: '/api/auth/tokens', headers: { cookie: staff.cookie }, payload: { name: 'x' } }),
        'CSRF_TOKEN_INVALID',
      );
      // The refused logout did not end the session.
      expect((await t.http.inject({ method: 'GET', url: '/api/me', headers: { cookie: staff.cookie } })).statusCode).toBe(200);
    });

    it('accepts the same change with the right token', async () => {
      const manager = await login(t.http, 'manager');
      const order = await placeOrder(t.http, manager);
      const res = await t.http.inject({
        method: 'PATCH',
        url: `/api/stores/1/orders/${order.id}/status`,
        headers: manager.headers,
        payload: { status: 'accepted', version: order.version },
      });
      expect(res.statusCode, res.body).toBe(200);
    });
  });

  describe('bearer API tokens', () => {
    it('are shown once on creation and authenticate changes without a CSRF token', async () => {
      const staff = await login(t.http, 'staff');
      const token = await apiToken(t.http, staff);
      expect(token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      const order = await placeOrder(t.http, staff);
      const res = await t.http.inject({
        method: 'PATCH',
        url: `/api/stores/1/orders/${order.id}/status`,
        headers: bearer(token),
        payload: { status: 'accepted', version: order.version },
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().order).toMatchObject({ status: 'accepted', version: order.version + 1 });
      const me = await t.http.inject({ method: 'GET', url: '/api/me', headers: bearer(token) });
      expect(me.json().user.email).toBe(demoEmail('staff'));
    });

    it('carry the same store access as their user', async () => {
      const staff = await login(t.http, 'staff');
      const token = await apiToken(t.http, staff);
      expectError(await t.http.inject({ method: 'GET', url: '/api/stores/2/orders', headers: bearer(token) }), 'TENANT_FORBIDDEN');
    });

    it('an unknown bearer token answers 401 AUTH_REQUIRED, even alongside a valid cookie', async () => {
      const staff = await login(t.http, 'staff');
      expectError(await t.http.inject({ method: 'GET', url: '/api/me', headers: bearer('sft_not-a-real-token') }), 'AUTH_REQUIRED');
      expectError(
        await t.http.inject({ method: 'GET', url: '/api/me', headers: { ...bearer('sft_not-a-real-token'), cookie: staff.cookie } }),
        'AUTH_REQUIRED',
      );
    });

    it('cannot be created without a session', async () => {
      expectError(await t.http.inject({ method: 'POST', url: '/api/auth/tokens', payload: { name: 'anon' } }), 'AUTH_REQUIRED');
    });
  });
});
