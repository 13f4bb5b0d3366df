import { expect, it } from 'vitest';
import { testApp } from '../../support/realtime-apps.js';
import { nextEvent } from '../../support/realtime-clients.js';
import { describeWithRedisServer, redisClient } from '../../support/redis.js';
import { waitFor } from '../../support/waiting.js';
import { clusterOnPrivateRedis } from './cluster-harness.js';

/**
 * A node's SUBSCRIBE connection drops and reconnects (Redis restarted, a proxy cut it)
 * while another node's user leaves: the member_removed published meanwhile never reaches
 * this node. Once resubscribed, the node must bring its subscribers' member lists up to date
 * with the cluster's, rather than leave them a member who is gone.
 */
await describeWithRedisServer("presence changes missed while a node's subscriber connection was down (private redis-server)", () => {
  const app = testApp();
  const cluster = clusterOnPrivateRedis({ app, prefix: 'gap:', names: ['a', 'b'] });

  it('sends the members that changed meanwhile once it is subscribed again', async () => {
    const { redis, a, b } = cluster();
    const watcher = a.client(app, { user: { id: 'watcher' } });
    await nextEvent(watcher, 'presence-room', 'pusher:subscription_succeeded');
    const members = (watcher.channel('presence-room') as unknown as { members: { get(id: string): unknown } }).members;
    const leaver = b.client(app, { user: { id: 'leaver' } });
    await nextEvent(leaver, 'presence-room', 'pusher:subscription_succeeded');
    await waitFor('the watcher has the leaver', () => members.get('leaver') !== null, 5_000);

    // Cut node a's subscriber connection (only that one), and have the leaver leave at once.
    const admin = redisClient(redis.url);
    try {
      const list = (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
      const line = list.split('\n').find((l) => / name=a:sub /.test(l));
      expect(line, list).toBeDefined();
      const id = /id=(\d+)/.exec(line!)![1]!;
      await admin.call('CLIENT', 'KILL', 'ID', id);
    } finally {
      admin.disconnect();
    }
    leaver.unsubscribe('presence-room');
    await waitFor('Redis has the leaver gone', async () => !(await b.node.control.users(app.id, 'presence-room')).includes('leaver'), 5_000);
    await waitFor('node a subscribed again', () => a.fanout.connected, 5_000);

    await waitFor('the watcher told the leaver left', () => members.get('leaver') === null, 5_000);
  });
});
