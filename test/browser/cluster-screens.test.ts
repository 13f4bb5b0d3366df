import { afterAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ensureWebBuild } from '../../scripts/build-web.js';
import { card, chromiumPresent, openBrowser, poll, signIn, type Person } from '../support/browser.js';
import { killAllNodes, startNode, startProxy, type TcpProxy } from '../support/cluster-processes.js';
import { describeWithPrivateRedis } from '../support/failure-suite.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis.js';

/**
 * The same screens against a cluster: two StoreFlow processes on one PostgreSQL and one
 * Redis behind a round-robin load balancer. Pages, API calls and WebSockets land on either
 * node; a change made through one node reaches a page whose socket is on the other.
 */
const suite = () =>
  describeWithPrivateRedis('the screens on a two-node cluster [postgres, private Redis, child processes]', (database) => {
    let redis: PrivateRedis | undefined;
    let proxy: TcpProxy | undefined;
    const people: Person[] = [];

    afterAll(async () => {
      await Promise.all(people.map((p) => p.close()));
      await killAllNodes();
      await proxy?.close();
      await redis?.stop('SIGKILL');
    });

    const step = (page: Page, status: string) => page.locator(`[data-testid="timeline"] li[data-status="${status}"]`);

    it('a pickup order from checkout to completion, live on both pages', { timeout: 180_000 }, async () => {
      await ensureWebBuild({ quiet: true });
      redis = await startPrivateRedis();
      const env = { DATABASE_URL: database().url!, REDIS_URL: redis.url, LOG_LEVEL: 'warn', PIPELINE_POLL_INTERVAL_MS: '200' };
      const a = await startNode({ ...env, LOG_LEVEL: 'info' });
      const b = await startNode({ ...env, LOG_LEVEL: 'info', STOREFLOW_SEED_DEMO: 'false' });
      proxy = await startProxy([a.port, b.port]);
      const [staff, customer] = await Promise.all([openBrowser(proxy.url), openBrowser(proxy.url, { width: 390, height: 844 })]);
      people.push(staff, customer);

      await signIn(staff.page, 'staff@demo.storeflow.test');
      const shop = customer.page;
      await shop.goto('/shop/1');
      await shop.getByRole('button', { name: /^One more/ }).first().click();
      await shop.getByLabel('Name').fill('Alan Turing');
      await shop.getByLabel('Email').fill('alan@example.test');
      await shop.getByRole('button', { name: 'Place order' }).click();
      await shop.waitForURL(/\/track\/[A-Za-z0-9_-]{16,}$/);
      const publicId = new URL(shop.url()).pathname.split('/').pop() ?? '';
      await poll(() => shop.getByTestId('connection').getAttribute('data-state')).toBe('connected');

      const c = card(staff.page, publicId);
      await poll(() => c.count(), 30_000).toBe(1);
      for (const [button, status] of [['Accept', 'accepted'], ['Start preparing', 'in_progress'], ['Mark ready', 'ready']] as const) {
        await c.getByRole('button', { name: button }).click();
        await poll(() => c.getAttribute('data-status')).toBe(status);
        await poll(() => step(shop, status).getAttribute('class'), 30_000).toContain('current');
      }
      await c.getByRole('button', { name: 'Complete' }).click();
      await poll(() => step(shop, 'completed').getAttribute('class'), 30_000).toContain('current');
      await poll(() => c.count()).toBe(0);
      expect(staff.problems).toEqual([]);
      expect(customer.problems).toEqual([]);
    });
  });

if (chromiumPresent()) await suite();
else describe.skip('the screens on a two-node cluster — skipped: no chromium', () => it('needs chromium', () => {}));
