import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allKeys } from '../support/http-app.js';
import { card, chromiumPresent, poll, openBrowser, screenshot, signIn, startBrowserApp, type Person } from '../support/browser.js';
import type { RealtimeApp } from '../support/storeflow-realtime.js';

const INTERNAL_KEYS = ['id', 'order_id', 'store_id', 'merchant_id', 'product_id', 'user_id'];

/**
 * A customer checks out in one browser while staff in another see the card appear and move
 * it through the whole shipping workflow; the customer's tracking page shows each step live
 * and never receives an internal id.
 */
describe.skipIf(!chromiumPresent())('customer checkout and the staff board, live', () => {
  let app: RealtimeApp;
  let staff: Person;
  let customer: Person;

  beforeAll(async () => {
    app = await startBrowserApp();
    [staff, customer] = await Promise.all([openBrowser(app.baseUrl), openBrowser(app.baseUrl, { width: 390, height: 844 })]);
  }, 180_000);
  afterAll(async () => {
    await Promise.all([staff?.close(), customer?.close()]);
    await app?.close();
  });

  /** Everything the tracking page receives: JSON answers and WebSocket frames, parsed. */
  function recordTraffic(page: Page): unknown[] {
    const seen: unknown[] = [];
    page.on('response', async (res) => {
      if (!res.url().startsWith(app.baseUrl) || !(res.headers()['content-type'] ?? '').includes('json')) return;
      seen.push({ url: res.url(), body: await res.json().catch(() => null) });
    });
    page.on('websocket', (ws) => {
      ws.on('framereceived', ({ payload }) => {
        const frame = JSON.parse(String(payload)) as { data?: unknown };
        seen.push({ ...frame, data: typeof frame.data === 'string' ? JSON.parse(frame.data) : frame.data });
      });
    });
    return seen;
  }

  const step = (page: Page, status: string) => page.locator(`[data-testid="timeline"] li[data-status="${status}"]`);

  it('the card appears, moves through every step, and the customer sees each one live', async () => {
    const board = staff.page;
    await signIn(board, 'staff@demo.storeflow.test');
    await screenshot(board, 'board-empty');
    const unread = async () => Number(await board.getByTestId('unread-count').textContent());
    await poll(() => board.getByTestId('unread-count').count()).toBe(1);
    const unreadBefore = await unread();

    const shop = customer.page;
    await shop.goto('/shop/1');
    await shop.getByRole('button', { name: /^One more/ }).first().click();
    await shop.getByRole('button', { name: /^One more/ }).nth(2).click();
    await shop.getByLabel('Ship to me').check();
    await shop.getByLabel('Name').fill('Grace Hopper');
    await shop.getByLabel('Email').fill('grace@example.test');
    await shop.getByLabel('Street and number').fill('Hauptstraße 1');
    await shop.getByLabel('Postal code').fill('10115');
    await shop.getByLabel('City').fill('Berlin');
    await screenshot(shop, 'storefront-phone');
    const traffic = recordTraffic(shop);
    await shop.getByRole('button', { name: 'Place order' }).click();
    await shop.waitForURL(/\/track\/[A-Za-z0-9_-]{16,}$/);
    const publicId = new URL(shop.url()).pathname.split('/').pop() ?? '';
    await poll(() => shop.getByTestId('connection').getAttribute('data-state')).toBe('connected');
    await poll(() => step(shop, 'pending').getAttribute('class')).toContain('current');

    // Staff: the new card, with its customer, items and type, in the shipping lane's first column.
    const c = card(board, publicId);
    await poll(() => c.count()).toBe(1);
    await poll(() => board.getByTestId('column-shipping-pending').locator(`[data-public-id="${publicId}"]`).count()).toBe(1);
    expect(await c.textContent()).toContain('Grace Hopper');
    expect(await c.textContent()).toContain('Shipping');
    await poll(() => c.getByTestId('age').textContent()).toMatch(/\d+s/);
    await screenshot(board, 'board-new-order');
    // The notifier tells every member of the store: the bell counts it, live.
    await poll(unread).toBe(unreadBefore + 1);
    await board.getByTestId('bell').click();
    expect(await board.getByRole('region', { name: 'Notifications' }).textContent()).toContain('Grace Hopper');
    await screenshot(board, 'board-notifications');
    await board.getByRole('button', { name: 'Mark all read' }).click();
    await poll(unread).toBe(0);
    await board.getByTestId('bell').click();

    const expectStep = async (status: string) => {
      await poll(() => c.getAttribute('data-status')).toBe(status);
      await poll(() => step(shop, status).getAttribute('class')).toContain('current');
      expect(await step(shop, status).locator('time').count()).toBe(1);
    };

    await c.getByRole('button', { name: 'Accept' }).click();
    await expectStep('accepted');
    await c.getByRole('button', { name: 'Start packing' }).click();
    await expectStep('packing');
    // Shipping only offers what the card's state allows: no "Complete", no "Mark ready".
    expect(await c.getByRole('button', { name: 'Mark ready' }).count()).toBe(0);
    await c.getByRole('button', { name: 'Ship…' }).click();
    await c.getByLabel('Tracking code').fill('DHL-4711');
    await c.getByLabel('Tracking link (optional)').fill('https://track.example/DHL-4711');
    await screenshot(board, 'board-ship-form');
    await c.getByRole('button', { name: 'Ship order' }).click();
    await expectStep('shipped');
    await poll(() => shop.getByTestId('shipped-banner').textContent()).toContain('Your order has shipped!');
    expect(await shop.getByTestId('tracking-link').getAttribute('href')).toBe('https://track.example/DHL-4711');
    await screenshot(shop, 'tracking-shipped-phone');

    await c.getByRole('button', { name: 'Mark delivered' }).click();
    await poll(() => step(shop, 'delivered').getAttribute('class')).toContain('current');
    expect(await shop.getByTestId('shipped-banner').textContent()).toContain('Your order has been delivered.');
    await poll(() => c.count()).toBe(0);
    await screenshot(shop, 'tracking-delivered-phone');

    // Every step has its time; the page and its traffic carry no internal ids.
    for (const s of ['pending', 'accepted', 'packing', 'shipped', 'delivered']) expect(await step(shop, s).locator('time').count(), s).toBe(1);
    const keys = new Set(allKeys(traffic));
    expect(traffic.length).toBeGreaterThan(3);
    for (const k of INTERNAL_KEYS) expect(keys.has(k), `tracking traffic carries "${k}"`).toBe(false);
    expect(staff.problems).toEqual([]);
    expect(customer.problems).toEqual([]);
  }, 120_000);
});
