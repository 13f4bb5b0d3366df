import { afterAll, beforeAll, expect, it } from 'vitest';
import { testApp, testSign } from '../../support/realtime-apps.js';
import { RawClient } from '../../support/realtime-clients.js';
import { deleteRedisKeys, describeOnRedis, REDIS_URL, redisClient, redisTestPrefix } from '../../support/redis.js';
import { waitFor } from '../../support/waiting.js';
import { startClusterNode, type ClusterNode } from './cluster-harness.js';

/**
 * Presence churn on two nodes while the cluster's steps are in flight: the same users
 * subscribe and, at once, unsubscribe, subscribe twice, or drop the socket, on either node.
 * When everyone has gone, nothing is left (Redis, node channels) and each user's webhooks
 * alternate member_added / member_removed, starting with added and ending with removed.
 */
await describeOnRedis('presence churn across two nodes', () => {
  const app = testApp();
  const prefix = redisTestPrefix();
  const channel = 'presence-churn';
  let a: ClusterNode;
  let b: ClusterNode;

  beforeAll(async () => {
    [a, b] = await Promise.all([startClusterNode('a', { url: REDIS_URL, prefix, apps: [app] }), startClusterNode('b', { url: REDIS_URL, prefix, apps: [app] })]);
  });
  afterAll(async () => {
    await Promise.all([a, b].map((n) => n?.stop()));
    await deleteRedisKeys(prefix);
  });

  it('leaves no member, count or channel behind, and balanced webhooks per user', async () => {
    const clients: RawClient[] = [];
    for (let round = 0; round < 3; round += 1) {
      await Promise.all(
        Array.from({ length: 16 }, async (_, i) => {
          const node = (i + round) % 2 === 0 ? a : b;
          const { client, socketId } = await RawClient.established(`ws://127.0.0.1:${node.port}/app/${app.key}?protocol=7`);
          clients.push(client);
          const data = JSON.stringify({ user_id: `u${i % 5}`, user_info: { i } });
          const auth = testSign.channel(app, socketId, channel, data);
          client.subscribe(channel, auth, data);
          switch ((i + round) % 4) {
            case 0:
              client.send({ event: 'pusher:unsubscribe', data: { channel } });
              break;
            case 1:
              client.close();
              break;
            case 2:
              client.subscribe(channel, auth, data);
              break;
            default:
              await client.next('pusher_internal:subscription_succeeded');
          }
        }),
      );
    }
    for (const c of clients) c.close();

    await waitFor(
      'nothing left in the cluster',
      async () => {
        const [users, info] = await Promise.all([a.node.control.users(app.id, channel), a.node.control.channel(app.id, channel)]);
        return users.length === 0 && !info.occupied;
      },
      10_000,
    );
    await waitFor('no local channel on either node', () => [a, b].every((n) => n.node.server.state.byId(app.id)?.channels.find(channel) === undefined), 5_000);
    const redis = redisClient();
    try {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}a:*`, 'COUNT', 500);
        cursor = next;
        keys.push(...found);
      } while (cursor !== '0');
      expect(keys).toEqual([]);
    } finally {
      redis.disconnect();
    }
    const perUser = new Map<string, string[]>();
    for (const o of [...a.sink.seen, ...b.sink.seen]) {
      if ((o.name !== 'member_added' && o.name !== 'member_removed') || o.channel !== channel) continue;
      const seq = perUser.get(o.user_id) ?? [];
      seq.push(o.name);
      perUser.set(o.user_id, seq);
    }
    expect(perUser.size).toBeGreaterThan(0);
    for (const [user, seq] of perUser) {
      const added = seq.filter((n) => n === 'member_added').length;
      expect({ user, added, removed: seq.length - added }).toEqual({ user, added, removed: added });
    }
    expect([a, b].flatMap((n) => n.errors)).toEqual([]);
  });
});
