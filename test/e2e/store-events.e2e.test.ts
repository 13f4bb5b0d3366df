import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiToken,
  bearer,
  expectError,
  login,
  moveTo,
  placeOrder,
  startTestApp,
  type Session,
  type TestApp,
} from '../support/http-app.js';

interface StaffEvent {
  id: string;
  name: string;
  stream: string;
  stream_version: number;
  position: number;
  checkpoint: string;
  metadata: { store_id: number; merchant_id: number };
  payload: Record<string, unknown>;
}

interface EventPage {
  events: StaffEvent[];
  next: string;
  has_more: boolean;
}

describe("a store's event catch-up over HTTP", () => {
  let t: TestApp;
  let owner: Session;
  let staff: Session;

  beforeAll(async () => {
    t = await startTestApp();
    [owner, staff] = await Promise.all([login(t.http, 'owner'), login(t.http, 'staff')]);
    // Traffic in both stores, interleaved, so the store filter and paging both have work.
    for (let i = 0; i < 3; i++) {
      let mine = await placeOrder(t.http, staff, { type: i === 1 ? 'shipping' : 'pickup' });
      await placeOrder(t.http, owner, { storeId: 2 });
      mine = await moveTo(t.http, staff, mine, 'accepted');
      if (i === 1) {
        mine = await moveTo(t.http, staff, mine, 'packing');
        const ship = await t.http.inject({
          method: 'POST',
          url: `/api/stores/1/orders/${mine.id}/ship`,
          headers: staff.headers,
          payload: { tracking_code: 'EV-1', version: mine.version },
        });
        expect(ship.statusCode, ship.body).toBe(200);
      }
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  const read = async (session: Session, storeId: number, query: string): Promise<EventPage> => {
    const res = await t.http.inject({ method: 'GET', url: `/api/stores/${storeId}/events${query}`, headers: session.headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };

  it("returns only the store's own events, in log order", async () => {
    const all = await read(staff, 1, '?limit=1000');
    expect(all.has_more).toBe(false);
    expect(all.events.length).toBeGreaterThan(0);
    for (const e of all.events) expect(e.metadata.store_id).toBe(1);
    const positions = all.events.map((e) => e.position);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(all.events.map((e) => e.name)).toEqual(expect.arrayContaining(['OrderCreated', 'OrderStatusUpdated', 'ShippingStatusUpdated']));
  });

  it('pages through every event exactly once when following next with a small limit', async () => {
    const reference = (await read(staff, 1, '?limit=1000')).events.map((e) => e.id);
    const seen: string[] = [];
    let after = '0.0';
    for (let pages = 0; pages < 100; pages++) {
      const page = await read(staff, 1, `?limit=2&after=${after}`);
      expect(page.events.length).toBeLessThanOrEqual(2);
      seen.push(...page.events.map((e) => e.id));
      if (page.events.length) expect(page.next).toBe(page.events.at(-1)?.checkpoint);
      else expect(page.next).toBe(after);
      after = page.next;
      if (!page.has_more) break;
    }
    expect(seen).toEqual(reference);
    expect(new Set(seen).size).toBe(seen.length);
    // Caught up: the last checkpoint returns nothing more.
    expect((await read(staff, 1, `?after=${after}`)).events).toEqual([]);
  });

  it('continues from the checkpoint of a later change', async () => {
    const { next } = await read(staff, 1, '?limit=1000');
    const order = await placeOrder(t.http, staff);
    await moveTo(t.http, staff, order, 'accepted');
    const fresh = await read(staff, 1, `?after=${next}`);
    expect(fresh.events.map((e) => [e.name, e.stream])).toEqual([
      ['OrderCreated', `order-${order.id}`],
      ['OrderStatusUpdated', `order-${order.id}`],
    ]);
  });

  it('is readable with a bearer token', async () => {
    const token = await apiToken(t.http, staff);
    const res = await t.http.inject({ method: 'GET', url: '/api/stores/1/events?limit=1', headers: bearer(token) });
    expect(res.statusCode).toBe(200);
    expect(res.json().events).toHaveLength(1);
  });

  it.each(['abc', '1', '1.2.3', '-1.0', '1.', '.1', '99999999999999999999999.1'])(
    'answers after=%s with 400 CHECKPOINT_INVALID',
    async (after) => {
      const res = await t.http.inject({ method: 'GET', url: `/api/stores/1/events?after=${encodeURIComponent(after)}`, headers: staff.headers });
      expectError(res, 'CHECKPOINT_INVALID');
    },
  );

  it.each(['0', '1001', 'ten'])('answers limit=%s with 400', async (limit) => {
    const res = await t.http.inject({ method: 'GET', url: `/api/stores/1/events?limit=${limit}`, headers: staff.headers });
    expectError(res, 'VALIDATION_FAILED');
  });

  it('refuses staff of another store with 403 TENANT_FORBIDDEN', async () => {
    expectError(await t.http.inject({ method: 'GET', url: '/api/stores/2/events', headers: staff.headers }), 'TENANT_FORBIDDEN');
  });

  it('requires sign-in', async () => {
    expectError(await t.http.inject({ method: 'GET', url: '/api/stores/1/events' }), 'AUTH_REQUIRED');
  });
});
