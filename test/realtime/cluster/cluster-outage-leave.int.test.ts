import { expect, it } from 'vitest';
import { testApp } from '../../support/realtime-apps.js';
import { nextEvent } from '../../support/realtime-clients.js';
import { describeWithRedisServer } from '../../support/redis.js';
import { waitFor } from '../../support/waiting.js';
import { clusterOnPrivateRedis } from './cluster-harness.js';

/**
 * While Redis is away a node can only go by its own members: a user leaving there is
 * announced to its subscribers (member_removed) though the same user may still be connected
 * to another node. When Redis is back (with its data) the node must put right what it said:
 * a user it announced gone who is still a member of the cluster is announced again.
 */
await describeWithRedisServer('a leave during a Redis outage, by a user still on another node (private redis-server)', () => {
  const app = testApp();
  const cluster = clusterOnPrivateRedis({ app, prefix: 'leave:', names: ['a', 'b'], persistent: true });

  it("announces the user again to the node's subscribers once Redis is back", async () => {
    const { redis, a, b } = cluster();
    const watcher = a.client(app, { user: { id: 'watcher' } });
    await nextEvent(watcher, 'presence-room', 'pusher:subscription_succeeded');
    const onA = a.client(app, { user: { id: 'u', info: { name: 'U' } } });
    const onB = b.client(app, { user: { id: 'u', info: { name: 'U' } } });
    await Promise.all([nextEvent(onA, 'presence-room', 'pusher:subscription_succeeded'), nextEvent(onB, 'presence-room', 'pusher:subscription_succeeded')]);
    const members = (watcher.channel('presence-room') as unknown as { members: { get(id: string): { info?: unknown } | null } }).members;
    await waitFor('the watcher has u', () => members.get('u') !== null, 5_000);

    await redis.stop('SIGTERM');
    await waitFor('both nodes to notice', () => !a.state.connected && !b.state.connected, 5_000);
    onA.unsubscribe('presence-room');
    await waitFor("the watcher told u left (its node's own view)", () => members.get('u') === null, 5_000);

    await redis.start();
    await waitFor('u a member again at the watcher', () => members.get('u') !== null, 10_000);
    expect(members.get('u')?.info).toEqual({ name: 'U' });
    expect(await a.node.control.users(app.id, 'presence-room')).toEqual(expect.arrayContaining(['u', 'watcher']));
  });
});
