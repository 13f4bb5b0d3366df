import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, moveTo, placeOrder, type Session } from '../support/http-app.js';
import { card, chromiumPresent, openBrowser, poll, screenshot, signIn, startBrowserApp, type Person } from '../support/browser.js';
import type { RealtimeApp } from '../support/storeflow-realtime.js';

/**
 * The actions that leave or bend the workflow, driven from the keyboard: reject and cancel
 * with a reason, an owner override, and the error an invalid command answers shown on the card.
 */
describe.skipIf(!chromiumPresent())('leaving and overriding the workflow from the board', () => {
  let app: RealtimeApp;
  let staff: Session;
  let olivia: Person;

  beforeAll(async () => {
    app = await startBrowserApp();
    staff = await login(app.http, 'staff');
    olivia = await openBrowser(app.baseUrl, { width: 1180, height: 820 });
  }, 180_000);
  afterAll(async () => {
    await olivia?.close();
    await app?.close();
  });

  const statusOf = async (publicId: string) => (await app.http.inject({ url: `/api/track/${publicId}` })).json().order.status as string;
  const auditOf = async (publicId: string) =>
    app.db.query<{ action: string; meta: { reason?: string } }>(
      `SELECT a.action, a.meta FROM audit_log a JOIN orders o ON a.entity_id = o.id::text WHERE o.public_id = $1 ORDER BY a.id`,
      [publicId],
    );

  it('rejects, cancels and overrides with reasons, all by keyboard', async () => {
    const page = olivia.page;
    await signIn(page, 'owner@demo.storeflow.test');
    const [rejectMe, cancelMe, overrideMe] = [
      await placeOrder(app.http, staff, { type: 'pickup' }),
      await placeOrder(app.http, staff, { type: 'shipping' }),
      await placeOrder(app.http, staff, { type: 'pickup' }),
    ];
    await moveTo(app.http, staff, cancelMe, 'accepted');
    for (const o of [rejectMe, cancelMe, overrideMe]) await poll(() => card(page, o.public_id).count()).toBe(1);

    // Reject from pending: the reason field takes the focus; Enter submits.
    const r = card(page, rejectMe.public_id);
    await r.getByRole('button', { name: 'Reject…' }).focus();
    await page.keyboard.press('Enter');
    await page.keyboard.type('Out of oat milk');
    await page.keyboard.press('Enter');
    await poll(() => r.count()).toBe(0);
    expect(await statusOf(rejectMe.public_id)).toBe('rejected');

    // Cancel an accepted shipping order; a pending-only action is not offered.
    const c = card(page, cancelMe.public_id);
    await poll(() => c.getAttribute('data-status')).toBe('accepted');
    expect(await c.getByRole('button', { name: 'Reject…' }).count()).toBe(0);
    await c.getByRole('button', { name: 'Cancel order…' }).focus();
    await page.keyboard.press('Enter');
    await page.keyboard.type('Customer called to cancel');
    await page.keyboard.press('Enter');
    await poll(() => c.count()).toBe(0);
    expect(await statusOf(cancelMe.public_id)).toBe('cancelled');

    // A step by keyboard: the card moves column and the keyboard stays on it.
    const o = card(page, overrideMe.public_id);
    await o.getByRole('button', { name: 'Accept' }).focus();
    await page.keyboard.press('Enter');
    await poll(() => o.getAttribute('data-status')).toBe('accepted');
    await poll(() => page.evaluate('document.activeElement && document.activeElement.textContent')).toBe('Start preparing');

    // Override accepted → ready, skipping a step; audited as an override with its reason.
    await o.getByRole('button', { name: 'Override…' }).click();
    await o.getByLabel('New status').selectOption('ready');
    await o.getByLabel('Reason').fill('Made at the counter already');
    await screenshot(page, 'board-override');
    await o.getByRole('button', { name: 'Override status' }).click();
    await poll(() => o.getAttribute('data-status')).toBe('ready');
    expect(await page.getByTestId('column-pickup-ready').locator(`[data-public-id="${overrideMe.public_id}"]`).count()).toBe(1);
    expect((await auditOf(overrideMe.public_id)).at(-1)).toMatchObject({ action: 'status_overridden', meta: { reason: 'Made at the counter already' } });

    // Override offers only the statuses of the order's own workflow.
    await o.getByRole('button', { name: 'Override…' }).click();
    expect(await o.getByLabel('New status').locator('option').allTextContents()).not.toContain('Shipped');

    // A command the domain refuses shows its error on the card, which stays as it was.
    const ship = await placeOrder(app.http, staff, { type: 'shipping' });
    const s = card(page, ship.public_id);
    await poll(() => s.count()).toBe(1);
    await s.getByRole('button', { name: 'Override…' }).click();
    await s.getByLabel('New status').selectOption('shipped');
    await s.getByLabel('Reason').fill('Sent with the morning van');
    await s.getByRole('button', { name: 'Override status' }).click();
    await poll(() => s.getByTestId('card-notice').textContent()).toContain('tracking code');
    expect(await s.getAttribute('data-status')).toBe('pending');

    const activity = await page.getByTestId('activity').textContent();
    expect(activity).toContain('(Out of oat milk)');
    expect(activity).toContain('(Customer called to cancel)');
    expect(olivia.problems).toEqual([]);
  }, 120_000);

  it('switches between the stores the user may access, and back to sign-in when the session ends', async () => {
    const page = olivia.page;
    if (!page.url().endsWith('/board')) await signIn(page, 'owner@demo.storeflow.test');
    const switcher = page.getByTestId('store-switcher');
    const stores = await switcher.locator('option').allTextContents();
    expect(stores).toHaveLength(2);
    const [one, two] = app.seed.storeIds;
    const inStore1 = await placeOrder(app.http, staff, { type: 'pickup' });
    await poll(() => card(page, inStore1.public_id).count()).toBe(1);

    await switcher.selectOption(String(two));
    await poll(() => card(page, inStore1.public_id).count()).toBe(0);
    const owner = await login(app.http, 'owner');
    const inStore2 = await placeOrder(app.http, owner, { storeId: two });
    await poll(() => card(page, inStore2.public_id).count()).toBe(1);
    await switcher.selectOption(String(one));
    await poll(() => card(page, inStore1.public_id).count()).toBe(1);
    expect(await card(page, inStore2.public_id).count()).toBe(0);

    // The session ends elsewhere: the next call answers 401 and the page asks to sign in again.
    await app.db.query("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = 'owner@demo.storeflow.test')");
    await card(page, inStore1.public_id).getByRole('button', { name: 'Accept' }).click();
    await page.waitForURL(/\/login\?next=%2Fboard$/);
    await signIn(page, 'owner@demo.storeflow.test');
    await poll(() => card(page, inStore1.public_id).count()).toBe(1);
    expect(olivia.problems).toEqual([]);
  }, 120_000);
});
