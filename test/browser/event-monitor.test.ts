import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, moveTo, placeOrder, type Session } from '../support/http-app.js';
import { chromiumPresent, openBrowser, poll, screenshot, signIn, startBrowserApp, type Person } from '../support/browser.js';
import type { RealtimeApp } from '../support/storeflow-realtime.js';

/**
 * The event monitor as an operator uses it: charts drawn from the throughput and the
 * sampled subscription lag, dead letters retried and discarded, the log searched, and a
 * replay followed to its end.
 */
describe.skipIf(!chromiumPresent())('the event monitor', () => {
  let app: RealtimeApp;
  let staff: Session;
  let owner: Person;

  beforeAll(async () => {
    app = await startBrowserApp();
    staff = await login(app.http, 'staff');
    // Replays affect every merchant: the API allows them to platform admins.
    await app.db.query("UPDATE users SET platform_admin = true WHERE email = 'owner@demo.storeflow.test'");
    owner = await openBrowser(app.baseUrl);
  }, 180_000);
  afterAll(async () => {
    await owner?.close();
    await app?.close();
  });

  /** Parks one logged event as a dead letter of `subscription`, as the pipeline would after its retries. */
  async function park(subscription: string, error: string): Promise<number> {
    const [row] = await app.db.query<{ id: string }>(
      `INSERT INTO dead_letters (subscription, event_id, event_position, event_name, stream, merchant_id, store_id, error, attempts, first_failed_at, last_failed_at)
       SELECT $1, id, position, name, stream, merchant_id, store_id, $2, 5, now(), now() FROM events WHERE name = 'OrderCreated' ORDER BY position DESC LIMIT 1
       RETURNING id`,
      [subscription, error],
    );
    return Number(row?.id);
  }
  const letterStatus = async (id: number) => (await app.db.query<{ status: string }>('SELECT status FROM dead_letters WHERE id = $1', [id]))[0]?.status;

  it('draws throughput and lag, retries and discards dead letters, searches, and replays with progress', async () => {
    for (let i = 0; i < 3; i++) {
      const o = await placeOrder(app.http, staff, { type: i === 0 ? 'shipping' : 'pickup' });
      await moveTo(app.http, staff, o, 'accepted');
    }
    const retried = await park('merchant-webhooks', 'HTTP 500 from https://hooks.example/orders');
    const discarded = await park('notifier', 'SMTP 451 try again later');

    const page = owner.page;
    await signIn(page, 'owner@demo.storeflow.test');
    await page.getByRole('link', { name: 'Event monitor' }).click();
    await page.waitForURL('**/monitor');

    // Charts: a bar per minute with OrderCreated in it; lag lines once two samples are in.
    const bars = page.getByTestId('throughput-chart').locator('rect');
    await poll(() => bars.count()).toBeGreaterThan(0);
    expect(await page.locator('.legend').first().textContent()).toContain('OrderCreated');
    await poll(() => page.locator('svg.chart path').count(), 30_000).toBeGreaterThan(0);
    await poll(() => page.getByTestId('subscriptions').locator('tbody tr').count()).toBeGreaterThanOrEqual(4);

    // Dead letters: one retried, one discarded with a reason.
    const table = page.getByTestId('dead-letters');
    await poll(() => table.locator('tbody tr').count()).toBe(2);
    await screenshot(page, 'monitor');
    const row = (text: string) => table.locator('tbody tr', { hasText: text });
    await row('HTTP 500').getByRole('button', { name: 'Retry' }).click();
    await poll(() => letterStatus(retried)).not.toBe('parked');
    await row('SMTP 451').getByRole('button', { name: 'Discard…' }).click();
    await row('SMTP 451').getByLabel('Reason').fill('customer asked us not to email');
    await row('SMTP 451').getByRole('button', { name: 'Discard event' }).click();
    await poll(() => letterStatus(discarded)).toBe('discarded');
    await poll(() => table.count()).toBe(0);

    // Search: only OrderCreated events, one per order placed.
    await page.getByRole('search').getByLabel('Type').selectOption('OrderCreated');
    await page.getByRole('button', { name: 'Search' }).click();
    const results = page.getByTestId('event-results').locator('tbody tr');
    await poll(() => results.count()).toBe(3);
    expect(await results.allTextContents()).toEqual(Array(3).fill(expect.stringContaining('OrderCreated')));

    // Replay the merchant webhooks from the start and follow it to the end. Counting
    // subscriptions (store-counters) are rebuilt, not replayed, so they are not offered.
    const choices = await page.locator('select[name="subscription"] option').allTextContents();
    expect(choices).toContain('merchant-webhooks');
    expect(choices).not.toContain('store-counters');
    await page.locator('select[name="subscription"]').selectOption('merchant-webhooks');
    await page.getByRole('button', { name: 'Replay' }).click();
    const replay = page.getByTestId('replay');
    await poll(() => replay.getAttribute('data-status'), 30_000).toBe('done');
    expect(await replay.textContent()).toMatch(/done, (\d+) of \1 events/);
    await screenshot(page, 'monitor-search-replay');

    // The board on a phone: the columns stacked, one status after the other.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('link', { name: 'Board' }).click();
    await poll(() => page.getByTestId('order-card').count()).toBe(3);
    await screenshot(page, 'board-phone');
    expect(owner.problems).toEqual([]);
  }, 150_000);
});
