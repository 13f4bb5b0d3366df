import { afterAll, beforeAll, expect, it } from 'vitest';
import { testApp } from '../../support/realtime-apps.js';
import { deleteRedisKeys, describeOnRedis, REDIS_URL, redisClient, redisTestPrefix } from '../../support/redis.js';
import { waitFor } from '../../support/waiting.js';
import { startClusterNode, type ClusterNode } from './cluster-harness.js';

/**
 * Lua scripts are not transactions that roll back: a step that raises half-way keeps the
 * writes before it. A dead node one of whose channels' keys holds the wrong type must still
 * be reaped completely — its other members removed (and announced), its index deleted —
 * rather than dropped from the registry with the rest of its share left in Redis for ever.
 */
await describeOnRedis('reaping a dead node whose keys are partly damaged', () => {
  const app = testApp();
  const prefix = redisTestPrefix();
  let node: ClusterNode;

  beforeAll(async () => {
    const redis = redisClient();
    try {
      const p = prefix;
      // Several damaged entries, so that SMEMBERS' order cannot put them all after the member.
      await redis.sadd(
        `${p}node:ghost`,
        '["c","1","wrong-a"]',
        '["c","1","wrong-b"]',
        '["p","1","presence-wrong","x"]',
        '["p","1","presence-room","ghost-user"]',
        '["c","1","presence-room"]',
      );
      await redis.set(`${p}a:1:subs:wrong-a`, 'a string where a hash belongs');
      await redis.set(`${p}a:1:subs:wrong-b`, 'another');
      await redis.set(`${p}a:1:pu:presence-wrong`, 'and another');
      await redis.hset(`${p}a:1:pu:presence-room`, 'ghost-user', '1');
      await redis.hset(`${p}a:1:pi:presence-room`, 'ghost-user', '{}');
      await redis.hset(`${p}a:1:subs:presence-room`, 'ghost', '1');
      await redis.sadd(`${p}a:1:occupied`, 'presence-room');
      await redis.zadd(`${p}nodes`, 0, 'ghost');
    } finally {
      redis.disconnect();
    }
    node = await startClusterNode('reaper', { url: REDIS_URL, prefix, apps: [app] });
  });
  afterAll(async () => {
    await node?.stop();
    await deleteRedisKeys(prefix);
  });

  it("removes everything readable the dead node held and deletes its index, reporting its member's departure once", async () => {
    await waitFor('the ghost reaped', () => node.state.stats().reaped === 1, 5_000);
    const redis = redisClient();
    try {
      expect(await redis.exists(`${prefix}node:ghost`)).toBe(0);
      expect(await redis.zscore(`${prefix}nodes`, 'ghost')).toBeNull();
      expect(await redis.hkeys(`${prefix}a:1:pu:presence-room`)).toEqual([]);
      expect(await redis.smembers(`${prefix}a:1:occupied`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
    expect(await node.node.control.users(app.id, 'presence-room')).toEqual([]);
    expect((await node.node.control.channel(app.id, 'presence-room')).occupied).toBe(false);
    await waitFor('member_removed and channel_vacated reported', () => node.sink.named('channel_vacated').length === 1, 5_000);
    expect(node.sink.named('member_removed').map((o) => o.user_id)).toEqual(['ghost-user']);
  });
});
