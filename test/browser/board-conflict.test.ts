import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, placeOrder, type Session } from '../support/http-app.js';
import { card, chromiumPresent, poll, openBrowser, screenshot, signIn, startBrowserApp, type Person } from '../support/browser.js';
import type { RealtimeApp } from '../support/storeflow-realtime.js';

/**
 * Two staff act on one card at once: one wins, the other gets the 409, sees the notice and
 * the card as it now is. The loser's request is held in its browser until the winner's has
 * been answered, so the race has the same outcome every run.
 */
describe.skipIf(!chromiumPresent())('two staff on one card', () => {
  let app: RealtimeApp;
  let staff: Session;
  let sam: Person;
  let marco: Person;

  beforeAll(async () => {
    app = await startBrowserApp();
    staff = await login(app.http, 'staff');
    [sam, marco] = await Promise.all([openBrowser(app.baseUrl), openBrowser(app.baseUrl, { width: 1024, height: 768 })]);
  }, 180_000);
  afterAll(async () => {
    await Promise.all([sam?.close(), marco?.close()]);
    await app?.close();
  });

  it('one wins; the other sees the conflict notice and the fresh card', async () => {
    await Promise.all([signIn(sam.page, 'staff@demo.storeflow.test'), signIn(marco.page, 'manager@demo.storeflow.test')]);
    // Each sees the other on the board (presence channel of the store).
    for (const p of [sam, marco]) {
      await poll(() => p.page.getByTestId('on-shift').textContent()).toMatch(/Marco Manager.*Sam Staff/);
    }
    const order = await placeOrder(app.http, staff, { type: 'pickup' });
    const samCard = card(sam.page, order.public_id);
    const marcoCard = card(marco.page, order.public_id);
    await poll(() => samCard.count()).toBe(1);
    await poll(() => marcoCard.count()).toBe(1);
    // The manager's card offers what a manager may do from pending; the staff card only the step.
    expect(await marcoCard.getByRole('button', { name: 'Reject…' }).count()).toBe(1);
    expect(await samCard.getByRole('button', { name: 'Reject…' }).count()).toBe(0);

    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let marcoAsked = false;
    await marco.page.route('**/api/stores/1/orders/*/status', async (route) => {
      marcoAsked = true;
      await held;
      await route.continue();
    });
    await marcoCard.getByRole('button', { name: 'Accept' }).click();
    await poll(() => marcoAsked).toBe(true);
    await samCard.getByRole('button', { name: 'Accept' }).click();
    await poll(() => samCard.getAttribute('data-status')).toBe('accepted');
    release();

    const notice = marcoCard.getByTestId('card-notice');
    await poll(() => notice.textContent()).toContain('Someone else changed order');
    expect(await notice.textContent()).toContain('it is now Accepted');
    expect(await marcoCard.getAttribute('data-status')).toBe('accepted');
    expect(await marcoCard.getAttribute('data-version')).toBe('2');
    expect(await marco.page.getByTestId('column-pickup-accepted').locator(`[data-public-id="${order.public_id}"]`).count()).toBe(1);
    expect(await samCard.getByTestId('card-notice').count()).toBe(0);
    await screenshot(marco.page, 'board-conflict-tablet');

    // The fresh card works: the next step goes through.
    await marcoCard.getByRole('button', { name: 'Start preparing' }).click();
    await poll(() => samCard.getAttribute('data-status')).toBe('in_progress');
    expect(sam.problems).toEqual([]);
    expect(marco.problems.filter((p) => !p.includes('409'))).toEqual([]);
  }, 120_000);
});
