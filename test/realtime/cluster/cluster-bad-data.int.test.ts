import { afterAll, beforeAll, expect, it } from 'vitest';
import { testApp } from '../../support/realtime-apps.js';
import { echoClient, nextEvent } from '../../support/realtime-clients.js';
import { deleteRedisKeys, describeOnRedis, REDIS_URL, redisClient, redisTestPrefix } from '../../support/redis.js';
import { waitFor } from '../../support/waiting.js';
import { startClusterNode, type ClusterNode } from './cluster-harness.js';

/**
 * Damaged or foreign data under the cluster's keys (a bad deploy, a person with redis-cli)
 * is skipped and reported, never fatal: the node keeps serving, answers what it can, and
 * reaps a "dead node" whose entries are garbage.
 */
await describeOnRedis('bad data in Redis', () => {
  const app = testApp();
  const prefix = redisTestPrefix();
  let node: ClusterNode;

  beforeAll(async () => {
    const redis = redisClient();
    try {
      const p = prefix;
      await redis.sadd(`${p}node:ghost`, 'not json', '["c"]', '["p","1","presence-room"]', '["c","1","haunted"]', '["p","1","presence-room","ghost-user"]');
      await redis.hset(`${p}a:1:subs:haunted`, 'ghost', 'lots');
      await redis.hset(`${p}a:1:pu:presence-room`, 'ghost-user', 'many', 'mallory', '1');
      await redis.hset(`${p}a:1:pi:presence-room`, 'mallory', '{not json');
      await redis.zadd(`${p}nodes`, 0, 'ghost');
      await redis.set(`${p}a:1:cache:cache-menu`, 'garbage');
      await redis.set(`${p}a:1:pu:presence-broken`, 'a string where a hash belongs');
      await redis.set(`${p}a:1:subs:wrongtype`, 'also a string');
    } finally {
      redis.disconnect();
    }
    node = await startClusterNode('sturdy', { url: REDIS_URL, prefix, apps: [app] });
    const raw = redisClient();
    try {
      await raw.publish(`${prefix}fanout`, 'not a fan-out message');
    } finally {
      raw.disconnect();
    }
  });
  afterAll(async () => {
    await node?.stop();
    await deleteRedisKeys(prefix);
  });

  it('reaps a dead node whose entries are garbage, skipping what it cannot read', async () => {
    await waitFor('the ghost reaped', async () => node.state.stats().reaped === 1, 5_000);
    const redis = redisClient();
    try {
      expect(await redis.exists(`${prefix}node:ghost`)).toBe(0);
      expect(await redis.zscore(`${prefix}nodes`, 'ghost')).toBeNull();
    } finally {
      redis.disconnect();
    }
  });

  it('leaves out a member whose user_info is not JSON, and still lets people in', async () => {
    const alice = echoClient(node.client(app, { user: { id: 'alice', info: { name: 'Alice' } } }));
    const here = await new Promise<unknown[]>((resolve) => alice.join('room').here(resolve));
    expect(here).toEqual([{ name: 'Alice' }]);
  });

  it('serves a presence channel whose keys hold the wrong type, from this node alone', async () => {
    const bob = echoClient(node.client(app, { user: { id: 'bob', info: { name: 'Bob' } } }));
    const here = await new Promise<unknown[]>((resolve) => bob.join('broken').here(resolve));
    expect(here).toEqual([{ name: 'Bob' }]);
  });

  it('treats an unreadable cache entry as a cache miss', async () => {
    const client = node.client(app);
    await nextEvent(client, 'cache-menu', 'pusher:cache_miss');
  });

  it('subscribes to a channel whose count key holds the wrong type, and keeps delivering', async () => {
    const client = node.client(app);
    await nextEvent(client, 'wrongtype', 'pusher:subscription_succeeded');
    const got = nextEvent(client, 'wrongtype', 'E');
    await node.node.control.publish({ appId: app.id, channels: ['wrongtype'], event: 'E', data: '{"ok":true}' });
    expect(await got).toEqual({ ok: true });
  });

  it('reported what it skipped, and is still serving', async () => {
    expect(node.errors.length).toBeGreaterThan(0);
    expect(node.errors.some((e) => (e as Error).name === 'FanoutDecodeError')).toBe(true);
    expect(node.fanout.connected && node.state.connected).toBe(true);
  });
});
