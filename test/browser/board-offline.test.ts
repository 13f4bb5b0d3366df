import type { WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, moveTo, placeOrder, type Session } from '../support/http-app.js';
import { card, chromiumPresent, poll, openBrowser, screenshot, signIn, startBrowserApp, type Person } from '../support/browser.js';
import type { RealtimeApp } from '../support/storeflow-realtime.js';

const ORDER_EVENTS = ['OrderCreated', 'OrderStatusUpdated', 'ShippingStatusUpdated'];

/**
 * The WebSocket goes away (the server side closes it and new connections are refused at
 * the route): the indicator says so, the board keeps up by polling, and once the socket is
 * back it shows every change exactly once. "Exactly once" is read from the DOM: the board's
 * activity list has one line per event the feed delivered, keyed by log position.
 */
describe.skipIf(!chromiumPresent())('the board without its WebSocket', () => {
  let app: RealtimeApp;
  let staff: Session;
  let sam: Person;

  beforeAll(async () => {
    app = await startBrowserApp();
    staff = await login(app.http, 'staff');
    sam = await openBrowser(app.baseUrl, { width: 1280, height: 900 });
  }, 180_000);
  afterAll(async () => {
    await sam?.close();
    await app?.close();
  });

  async function head(): Promise<string> {
    const res = await app.http.inject({ url: '/api/stores/1/events/head', headers: staff.headers });
    return String(res.json().checkpoint);
  }
  async function logPositions(after: string): Promise<string[]> {
    const res = await app.http.inject({ url: `/api/stores/1/events?after=${after}&limit=1000`, headers: staff.headers });
    return (res.json().events as Array<{ name: string; checkpoint: string }>).filter((e) => ORDER_EVENTS.includes(e.name)).map((e) => e.checkpoint);
  }

  it('says so, keeps working by polling, and after reconnecting shows every change exactly once', async () => {
    const page = sam.page;
    let blocked = false;
    const open = new Set<{ page: WebSocketRoute; server: WebSocketRoute }>();
    await page.routeWebSocket(/\/app\//, (ws) => {
      if (blocked) return ws.close({ code: 1011, reason: 'blocked by the test' });
      open.add({ page: ws, server: ws.connectToServer() });
    });
    const start = await head();
    await page.goto('/login');
    await screenshot(page, 'login');
    await signIn(page, 'staff@demo.storeflow.test');
    const state = () => page.getByTestId('connection').getAttribute('data-state');

    let a = await placeOrder(app.http, staff, { type: 'shipping' });
    await poll(() => card(page, a.public_id).count()).toBe(1);

    // The socket goes away: the server side closes it; reconnects are refused.
    blocked = true;
    expect(open.size).toBeGreaterThan(0);
    for (const pair of [...open]) {
      open.delete(pair);
      await pair.server.close({ code: 1000, reason: 'test' });
      await pair.page.close({ code: 1001, reason: 'going away' });
    }
    await poll(state).not.toBe('connected');
    await poll(state, 45_000).toBe('offline');
    expect(await page.getByTestId('connection').textContent()).toContain('Offline');

    // The board keeps working: changes by others arrive by polling, our own actions go through.
    const b = await placeOrder(app.http, staff, { type: 'pickup' });
    a = await moveTo(app.http, staff, a, 'accepted');
    await poll(() => card(page, b.public_id).count()).toBe(1);
    await poll(() => card(page, a.public_id).getAttribute('data-status')).toBe('accepted');
    await card(page, b.public_id).getByRole('button', { name: 'Accept' }).click();
    await poll(() => card(page, b.public_id).getAttribute('data-status')).toBe('accepted');
    expect(await state()).toBe('offline');
    await screenshot(page, 'board-offline');

    // The socket comes back: live again, and what happens now arrives live.
    blocked = false;
    await poll(state, 60_000).toBe('connected');
    a = await moveTo(app.http, staff, a, 'packing');
    await poll(() => card(page, a.public_id).getAttribute('data-status')).toBe('packing');

    // Every order event since the board opened is on screen once, no more, no fewer.
    const expected = await logPositions(start);
    // Wait until the board's feed has read the log to its end: a duplicate would show by then.
    await poll(async () => (await page.getByTestId('activity').getAttribute('data-feed-position')) === (await head())).toBe(true);
    const shown = () => page.getByTestId('activity').locator('li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-position') ?? ''));
    await poll(async () => (await shown()).length).toBe(expected.length);
    const positions = await shown();
    expect(new Set(positions).size).toBe(positions.length);
    expect([...positions].sort()).toEqual([...expected].sort());
    for (const o of [a, b]) expect(await card(page, o.public_id).count()).toBe(1);
    expect(sam.problems).toEqual([]);
  }, 150_000);

  it('works by polling alone when no real-time connection can be set up at all', async () => {
    const kiosk = await openBrowser(app.baseUrl, { width: 1024, height: 768 });
    try {
      const page = kiosk.page;
      await page.route('**/api/client-config', (route) => route.abort());
      await page.goto('/login');
      await page.getByLabel('Email').fill('staff@demo.storeflow.test');
      await page.getByLabel('Password').fill('storeflow-demo');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL('**/board');
      await poll(() => page.getByTestId('connection').getAttribute('data-state')).toBe('offline');
      let order = await placeOrder(app.http, staff, { type: 'pickup' });
      await poll(() => card(page, order.public_id).count()).toBe(1);
      order = await moveTo(app.http, staff, order, 'accepted');
      await poll(() => card(page, order.public_id).getAttribute('data-status')).toBe('accepted');
      expect(kiosk.problems.filter((p) => !p.includes('client-config'))).toEqual([]);
    } finally {
      await kiosk.close();
    }
  }, 90_000);
});
