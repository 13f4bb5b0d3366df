import { expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { testApp } from '../../support/realtime-apps.js';
import { echoClient, nextEvent } from '../../support/realtime-clients.js';
import { describeWithRedisServer } from '../../support/redis.js';
import { waitFor } from '../../support/waiting.js';
import { FAST_TIMINGS, clusterOnPrivateRedis } from './cluster-harness.js';

/**
 * Redis goes away for longer than a node's TTL and comes back WITH its data (append-only
 * file here; a restart with persistence or a promoted replica in production). Every node's
 * registration has expired meanwhile, but none of them died: the first node back must not
 * reap the others — that would tell every client their members left (member_removed), and
 * the webhooks that their channels were vacated, then occupied and joined again.
 */
await describeWithRedisServer('a cluster across a Redis restart that keeps its data (private redis-server)', () => {
  const app = testApp();
  const timings = FAST_TIMINGS;
  // Heartbeats out of phase (as on separate machines): b ticks half a heartbeat after a.
  const cluster = clusterOnPrivateRedis({ app, prefix: 'persist:', names: ['a', 'b'], persistent: true, staggerMs: timings.heartbeatMs / 2 });

  it('reaps no live node, and announces no departure, when every registration expired during the outage', async () => {
    const { redis, a, b } = cluster();
    const alice = echoClient(a.client(app, { user: { id: 'alice', info: {} } }));
    const bob = echoClient(b.client(app, { user: { id: 'bob', info: {} } }));
    await new Promise((resolve) => alice.join('room').here(resolve));
    await new Promise((resolve) => bob.join('room').here(resolve));
    const leaving: unknown[] = [];
    alice.join('room').leaving((m: unknown) => leaving.push(m));
    bob.join('room').leaving((m: unknown) => leaving.push(m));
    const lonely = b.client(app);
    await nextEvent(lonely, 'only-on-b', 'pusher:subscription_succeeded');
    await waitFor(
      'both nodes counted',
      async () => (await a.node.control.users(app.id, 'presence-room')).length === 2 && (await a.node.control.channel(app.id, 'only-on-b')).occupied,
      5_000,
    );

    await redis.stop('SIGTERM');
    await waitFor('both nodes to notice', () => !a.state.connected && !b.state.connected, 5_000);
    // Longer than the TTL: every registration in the (persisted) nodes set has expired.
    await sleep(timings.nodeTtlMs + 1_500);
    await redis.start();
    await waitFor('both nodes back', () => a.state.connected && b.state.connected && a.fanout.connected && b.fanout.connected, 10_000);
    // Time for a reaper to act (several heartbeats past a TTL), then nothing must have happened.
    await sleep(timings.nodeTtlMs * 2 + timings.heartbeatMs * 2);

    expect(a.state.stats().reaped + b.state.stats().reaped).toBe(0);
    expect(leaving).toEqual([]);
    expect([a, b].flatMap((n) => n.sink.named('member_removed'))).toEqual([]);
    expect([a, b].flatMap((n) => n.sink.named('channel_vacated'))).toEqual([]);
    expect((await a.node.control.users(app.id, 'presence-room')).sort()).toEqual(['alice', 'bob']);
    expect((await a.node.control.channel(app.id, 'only-on-b')).occupied).toBe(true);
  });
});
