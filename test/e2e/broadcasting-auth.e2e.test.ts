import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, type DemoSeed } from '../../src/app/demo-seed.js';
import { apiToken, bearer, cart, expectError, login, postCheckout, type Session } from '../support/http-app.js';
import { whenConnected } from '../support/realtime-clients.js';
import { startRealtimeApp, subscription, type ClientAuth, type RealtimeApp } from '../support/storeflow-realtime.js';
import { waitFor } from '../support/waiting.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const SOCKET = '1234.5678';

/**
 * POST /broadcasting/auth and /broadcasting/user-auth with Laravel Echo's contract, and the
 * channel rules of DESIGN.md §5: asked directly, and through pusher-js subscriptions whose
 * authorization goes to the real endpoint.
 */
describe('broadcasting authorization', () => {
  let h: RealtimeApp;
  let staff: Session;
  let owner: Session;
  let otherOwner: Session;
  let other: DemoSeed;
  let merchantId: number;
  let publicId: string;

  const sign = (text: string) => `${h.pusherApp.key}:${createHmac('sha256', h.pusherApp.secret).update(text).digest('hex')}`;
  const authForm = (headers: Record<string, string>, channel: string, socketId = SOCKET) =>
    h.http.inject({
      method: 'POST', url: '/broadcasting/auth', headers: { ...FORM, ...headers },
      payload: new URLSearchParams({ socket_id: socketId, channel_name: channel }).toString(),
    });
  const outcome = async (auth: ClientAuth, channel: string) => {
    const client = h.pusher(auth);
    await whenConnected(client);
    const result = await subscription(client, channel);
    client.disconnect();
    return result;
  };

  beforeAll(async () => {
    h = await startRealtimeApp();
    other = await seedDemo(h.db, { merchantName: 'Other Tea Ltd.', emailDomain: 'other.storeflow.test' });
    [staff, owner, otherOwner] = await Promise.all([login(h.http, 'staff'), login(h.http, 'owner'), login(h.http, 'owner@other.storeflow.test')]);
    merchantId = h.seed.merchantId;
    publicId = String((await postCheckout(h.http, 1, cart())).json().order.public_id);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('signs a store channel for a member, form-encoded as pusher-js posts it, or as JSON', async () => {
    const res = await authForm(staff.headers, 'private-store.1.orders');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ auth: sign(`${SOCKET}:private-store.1.orders`) });
    const json = await h.http.inject({
      method: 'POST', url: '/broadcasting/auth', headers: staff.headers, payload: { socket_id: SOCKET, channel_name: 'private-store.1.notifications' },
    });
    expect(json.json()).toEqual({ auth: sign(`${SOCKET}:private-store.1.notifications`) });
  });

  it('signs presence-store.{id} with the member as channel_data {user_id, user_info: {name, role}}', async () => {
    const res = await authForm(staff.headers, 'presence-store.1');
    expect(res.statusCode, res.body).toBe(200);
    const { auth, channel_data } = res.json();
    expect(JSON.parse(channel_data)).toEqual({ user_id: String(h.seed.userIds.staff), user_info: { name: 'Sam Staff', role: 'staff' } });
    expect(auth).toBe(sign(`${SOCKET}:presence-store.1:${channel_data}`));
  });

  it('authenticates the signed-in user for pusher:signin with user_data {id, name}', async () => {
    const res = await h.http.inject({
      method: 'POST', url: '/broadcasting/user-auth', headers: { ...FORM, ...staff.headers }, payload: `socket_id=${SOCKET}`,
    });
    expect(res.statusCode, res.body).toBe(200);
    const { auth, user_data } = res.json();
    expect(JSON.parse(user_data)).toEqual({ id: String(h.seed.userIds.staff), name: 'Sam Staff' });
    expect(auth).toBe(sign(`${SOCKET}::user::${user_data}`));

    const client = h.pusher({ session: staff });
    client.signin();
    await waitFor('signed in over the socket', () => client.user.user_data !== null);
    expect(client.user.user_data).toMatchObject({ id: String(h.seed.userIds.staff) });
    client.disconnect();
    expectError(await h.http.inject({ method: 'POST', url: '/broadcasting/user-auth', headers: FORM, payload: `socket_id=${SOCKET}` }), 'CHANNEL_FORBIDDEN');
  });

  it('lets members subscribe through pusher-js: store channels (cookie or token) and their merchant channel', async () => {
    const token = await apiToken(h.http, staff);
    expect(await outcome({ session: staff }, 'private-store.1.orders')).toEqual({ ok: true });
    expect(await outcome({ token }, 'private-store.1.catalog')).toEqual({ ok: true });
    expect(await outcome({ session: owner }, 'private-store.2.orders')).toEqual({ ok: true });
    expect(await outcome({ session: staff }, `private-merchant.${merchantId}.notifications`)).toEqual({ ok: true });
    expect(await outcome({ session: staff }, 'presence-store.1')).toEqual({ ok: true });
    expect(await outcome(null, `customer.${publicId}.order`)).toEqual({ ok: true });
  });

  it.each([
    ['staff of store 1 on store 2', () => ({ session: staff }), () => 'private-store.2.orders'],
    ['staff of store 1 on the presence channel of store 2', () => ({ session: staff }), () => 'presence-store.2'],
    ["another merchant's owner on store 1", () => ({ session: otherOwner }), () => 'private-store.1.notifications'],
    ["another merchant's owner on this merchant's alerts", () => ({ session: otherOwner }), () => `private-merchant.${merchantId}.notifications`],
    ["this merchant's staff on the other merchant's store", () => ({ session: staff }), () => `private-store.${other.storeIds[0]}.orders`],
    ['a forged session cookie', () => ({ session: { ...staff, cookie: 'sf_session=sfs_forged' } }), () => 'private-store.1.orders'],
    ['a session cookie without its X-CSRF-TOKEN', () => ({ session: staff, csrf: null }), () => 'private-store.1.orders'],
    ['a session cookie with a wrong X-CSRF-TOKEN', () => ({ session: staff, csrf: 'not-the-token' }), () => 'private-store.1.orders'],
    ['nobody at all', () => null, () => 'private-store.1.orders'],
    ['an unknown channel prefix', () => ({ session: owner }), () => 'private-stores.1.orders'],
    ['a store channel with an unknown topic', () => ({ session: owner }), () => 'private-store.1.payroll'],
    ['the loyalty channel (no customer sign-in yet)', () => ({ session: owner }), () => `private-customer.${publicId}.loyalty`],
  ] as Array<[string, () => ClientAuth, () => string]>)('refuses %s with 403, and the subscription fails', async (_case, auth, channel) => {
    expect(await outcome(auth(), channel())).toEqual({ ok: false, status: 403, error: expect.any(String) });
  });

  it('answers denials in the error format with a registry code', async () => {
    const denied = expectError(await authForm(staff.headers, 'private-store.2.orders'), 'CHANNEL_FORBIDDEN');
    expect(denied.details).toEqual({ channel: 'private-store.2.orders' });
    expectError(await authForm({ cookie: staff.cookie }, 'private-store.1.orders'), 'CSRF_TOKEN_INVALID');
    expectError(await authForm({}, 'private-store.1.orders'), 'CHANNEL_FORBIDDEN');
    expectError(await authForm(bearer('sft_not-a-token'), 'private-store.1.orders'), 'CHANNEL_FORBIDDEN');
    expectError(await authForm({}, 'customer.AAAAAAAAAAAAAAAAAAAAAA.order'), 'CHANNEL_FORBIDDEN');
    expectError(await authForm(staff.headers, 'private-store.1.orders', 'not-a-socket'), 'VALIDATION_FAILED');
    expectError(await authForm(staff.headers, 'x'.repeat(201)), 'VALIDATION_FAILED');
  });

  it('signs the public customer channel when asked, for an order that exists', async () => {
    const res = await authForm({}, `customer.${publicId}.order`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ auth: sign(`${SOCKET}:customer.${publicId}.order`) });
  });
});
