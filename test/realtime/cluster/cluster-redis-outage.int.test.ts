import { expect, it } from 'vitest';
import { testApp } from '../../support/realtime-apps.js';
import { echoClient, nextEvent } from '../../support/realtime-clients.js';
import { describeWithRedisServer } from '../../support/redis.js';
import { waitFor, within } from '../../support/waiting.js';
import { clusterOnPrivateRedis } from './cluster-harness.js';

/**
 * Redis (a private server of this test) stops under a two-node cluster and comes back empty
 * (no persistence): publishing rejects at once meanwhile, nodes and clients stay up, and
 * when Redis is back every node re-registers and re-asserts its share by itself — delivery
 * across nodes resumes and the presence list and counts are whole again, without a restart.
 */
await describeWithRedisServer('a cluster across a Redis outage (private redis-server)', () => {
  const app = testApp();
  const cluster = clusterOnPrivateRedis({ app, prefix: 'outage:', names: ['a', 'b'] });

  it('rejects publishing while Redis is down, and resumes delivery and presence by itself when it is back', async () => {
    const { redis, a, b } = cluster();
    const listener = b.client(app);
    await nextEvent(listener, 'orders', 'pusher:subscription_succeeded');
    const alice = echoClient(a.client(app, { user: { id: 'alice', info: {} } }));
    const bob = echoClient(b.client(app, { user: { id: 'bob', info: {} } }));
    await new Promise((resolve) => alice.join('room').here(resolve));
    await new Promise((resolve) => bob.join('room').here(resolve));
    const got: unknown[] = [];
    listener.channel('orders').bind('E', (d: unknown) => got.push(d));
    await a.node.control.publish({ appId: app.id, channels: ['orders'], event: 'E', data: '1' });
    await waitFor('first event across nodes', () => got.length === 1, 5_000);

    await redis.stop('SIGKILL');
    await waitFor('both nodes to notice', () => !a.fanout.connected && !b.fanout.connected, 5_000);
    await expect(within(a.node.control.publish({ appId: app.id, channels: ['orders'], event: 'E', data: '2' }), 'publish to reject', 3_000)).rejects.toThrow();
    // Through the HTTP API (what the SDKs and Laravel call): 503, so the caller knows to retry.
    const refused = await a.sdk(app).trigger('orders', 'E', 'x').then(
      () => undefined,
      (e: { status?: number; body?: string }) => e,
    );
    expect(refused).toMatchObject({ status: 503, body: expect.stringContaining('The cluster is unavailable') });
    // Connections to clients are untouched by the outage.
    expect(listener.connection.state).toBe('connected');

    await redis.start();
    await waitFor(
      'presence and counts re-asserted in the empty Redis',
      async () => {
        const users = await a.node.control.users(app.id, 'presence-room').catch(() => []);
        const orders = await b.node.control.channel(app.id, 'orders').catch(() => undefined);
        return users.length === 2 && orders?.subscriptionCount === 1;
      },
      10_000,
    );
    await waitFor(
      'delivery across nodes again',
      async () => {
        await a.node.control.publish({ appId: app.id, channels: ['orders'], event: 'E', data: '3' }).catch(() => {});
        return got.includes(3);
      },
      10_000,
    );
    expect(got).not.toContain(2);
    expect(a.state.stats().resyncs + b.state.stats().resyncs).toBeGreaterThanOrEqual(2);
  });
});
