import { expect, it } from 'vitest';
import { testApp } from '../../support/realtime-apps.js';
import { nextEvent } from '../../support/realtime-clients.js';
import { describeWithRedisServer } from '../../support/redis.js';
import { waitFor } from '../../support/waiting.js';
import { clusterOnPrivateRedis } from './cluster-harness.js';

/**
 * Presence webhooks across a Redis outage: a node that reported a join or a leave on its own
 * while Redis failed must not report it again when its resync tells Redis — member_added
 * and member_removed once per change, not twice.
 */
await describeWithRedisServer('presence webhooks across a Redis outage (private redis-server)', () => {
  const app = testApp();
  const cluster = clusterOnPrivateRedis({ app, prefix: 'hooks:', names: ['a'], persistent: true });

  it('reports a join and a leave made during the outage once each', async () => {
    const { redis, a } = cluster();
    const leaver = a.client(app, { user: { id: 'leaver' } });
    await nextEvent(leaver, 'presence-room', 'pusher:subscription_succeeded');
    await waitFor('leaver in Redis', async () => (await a.node.control.users(app.id, 'presence-room')).includes('leaver'), 5_000);

    await redis.stop('SIGTERM');
    await waitFor('the node to notice', () => !a.state.connected, 5_000);
    const joiner = a.client(app, { user: { id: 'joiner' } });
    await nextEvent(joiner, 'presence-room', 'pusher:subscription_succeeded');
    leaver.unsubscribe('presence-room');
    await waitFor('both reported by the node on its own', () => a.sink.named('member_removed').length === 1, 5_000);
    const resyncs = a.state.stats().resyncs;

    await redis.start();
    await waitFor('resynchronised', () => a.state.stats().resyncs > resyncs, 10_000);
    await waitFor('Redis has joiner, not leaver', async () => (await a.node.control.users(app.id, 'presence-room')).join() === 'joiner', 5_000);
    const named = (n: 'member_added' | 'member_removed') => a.sink.named(n).map((o) => o.user_id).sort();
    expect(named('member_added')).toEqual(['joiner', 'leaver']);
    expect(named('member_removed')).toEqual(['leaver']);
  });
});
