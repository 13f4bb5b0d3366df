import { afterAll, beforeAll, expect, it } from 'vitest';
import { testApp } from '../../support/realtime-apps.js';
import { nextEvent } from '../../support/realtime-clients.js';
import { deleteRedisKeys, describeOnRedis, REDIS_URL, redisClient, redisTestPrefix } from '../../support/redis.js';
import { waitFor } from '../../support/waiting.js';
import { startClusterNode, type ClusterNode } from './cluster-harness.js';

/**
 * Redis loses everything (restarted empty; here: the test's keys deleted) and a node's next
 * step reaches it before the node's next heartbeat has registered it again. If that node
 * then dies, what the step wrote must still be reaped — not stay in Redis for ever as the
 * share of a node nobody knows about (a channel occupied by no one, a member who left).
 */
await describeOnRedis('a share written by a node Redis no longer lists', () => {
  const app = testApp();
  const prefix = redisTestPrefix();
  let survivor: ClusterNode;
  let doomed: ClusterNode;

  beforeAll(async () => {
    survivor = await startClusterNode('survivor', { url: REDIS_URL, prefix, apps: [app], heartbeatMs: 200, nodeTtlMs: 1_500 });
    // Registered at start, then no heartbeat for a minute: its steps come first.
    doomed = await startClusterNode('doomed', { url: REDIS_URL, prefix, apps: [app], heartbeatMs: 60_000, nodeTtlMs: 1_500 });
  });
  afterAll(async () => {
    await Promise.all([survivor, doomed].map((n) => n?.stop()));
    await deleteRedisKeys(prefix);
  });

  it('is reaped when that node dies before its next heartbeat', async () => {
    await deleteRedisKeys(prefix);
    const client = doomed.client(app, { user: { id: 'ghost' } });
    await nextEvent(client, 'presence-room', 'pusher:subscription_succeeded');
    await waitFor(
      "the doomed node's share in Redis",
      async () => (await survivor.node.control.channel(app.id, 'presence-room')).occupied && (await survivor.node.control.users(app.id, 'presence-room')).length === 1,
      5_000,
    );
    await doomed.die();

    await waitFor(
      'the share reaped',
      async () => !(await survivor.node.control.channel(app.id, 'presence-room')).occupied && (await survivor.node.control.users(app.id, 'presence-room')).length === 0,
      8_000,
    );
    const redis = redisClient();
    try {
      expect(await redis.exists(`${prefix}node:doomed`)).toBe(0);
    } finally {
      redis.disconnect();
    }
    expect(survivor.sink.named('member_removed').map((o) => o.user_id)).toEqual(['ghost']);
  });
});
