import { afterAll, beforeAll, expect, it } from 'vitest';
import { testApp } from '../../support/realtime-apps.js';
import { echoClient, nextEvent } from '../../support/realtime-clients.js';
import { deleteRedisKeys, describeOnRedis, REDIS_URL, redisClient, redisTestPrefix } from '../../support/redis.js';
import { waitFor } from '../../support/waiting.js';
import { startClusterNode, type ClusterNode } from './cluster-harness.js';

/**
 * A node that dies without a goodbye (no release, heartbeats stop, its Redis connections
 * and sockets drop — what SIGKILL leaves) stops counting: the survivor reaps it within
 * nodeTtlMs + heartbeatMs, removes its members (member_removed to the survivor's clients,
 * reported once) and vacates its channels. A node that stops gracefully releases at once.
 */
await describeOnRedis('a node of the cluster dies', () => {
  const app = testApp();
  const prefix = redisTestPrefix();
  const timings = { heartbeatMs: 200, nodeTtlMs: 1_500 };
  /** The bound this test holds the cluster to, with these timings: ttl + heartbeat, plus slack for a loaded machine. */
  const boundMs = timings.nodeTtlMs + timings.heartbeatMs + 3_000;
  let survivor: ClusterNode;
  let doomed: ClusterNode;
  let graceful: ClusterNode;

  beforeAll(async () => {
    const start = (name: string) => startClusterNode(name, { url: REDIS_URL, prefix, apps: [app], ...timings });
    [survivor, doomed, graceful] = await Promise.all([start('survivor'), start('doomed'), start('graceful')]);
  });
  afterAll(async () => {
    await Promise.all([survivor, doomed, graceful].map((n) => n?.stop()));
    await deleteRedisKeys(prefix);
  });

  it("removes a dead node's members and channels, telling the survivor's clients, within the bound", async () => {
    const bob = echoClient(survivor.client(app, { user: { id: 'bob', info: { name: 'Bob' } } }));
    await new Promise((resolve) => bob.join('room').here(resolve));
    const leaving: unknown[] = [];
    bob.join('room').leaving((m: unknown) => leaving.push(m));

    const alice = echoClient(doomed.client(app, { user: { id: 'alice', info: { name: 'Alice' } } }));
    const here = await new Promise<unknown[]>((resolve) => alice.join('room').here(resolve));
    expect(here).toHaveLength(2);
    const lonely = doomed.client(app);
    await nextEvent(lonely, 'only-on-doomed', 'pusher:subscription_succeeded');
    await waitFor(
      'the doomed node counted',
      async () => (await survivor.node.control.channel(app.id, 'only-on-doomed')).occupied && (await survivor.node.control.users(app.id, 'presence-room')).length === 2,
      5_000,
    );

    const died = Date.now();
    await doomed.die();
    await waitFor('member_removed for alice on the survivor', () => leaving.length === 1, boundMs);
    const tookMs = Date.now() - died;
    expect(leaving).toEqual([{ name: 'Alice' }]);
    expect(await survivor.node.control.users(app.id, 'presence-room')).toEqual(['bob']);
    expect((await survivor.node.control.channel(app.id, 'only-on-doomed')).occupied).toBe(false);
    expect((await survivor.node.control.channels(app.id)).has('only-on-doomed')).toBe(false);
    // Reported once, by whichever survivor reaped the dead node.
    const reported = (name: 'channel_vacated' | 'member_removed') => [survivor, graceful].flatMap((n) => n.sink.named(name));
    await waitFor('channel_vacated reported', () => reported('channel_vacated').some((o) => o.channel === 'only-on-doomed'), 5_000);
    expect(reported('channel_vacated').filter((o) => o.channel === 'only-on-doomed')).toHaveLength(1);
    expect(reported('member_removed')).toEqual([{ appId: app.id, name: 'member_removed', channel: 'presence-room', user_id: 'alice' }]);
    expect(survivor.state.stats().reaped + graceful.state.stats().reaped).toBe(1);
    console.info(`dead node's member removed after ${tookMs} ms (heartbeat ${timings.heartbeatMs} ms, ttl ${timings.nodeTtlMs} ms)`);
  });

  it("releases a gracefully stopped node's share at once, without waiting for it to expire", async () => {
    const carol = echoClient(survivor.client(app, { user: { id: 'carol', info: {} } }));
    await new Promise((resolve) => carol.join('lobby').here(resolve));
    const leaving: unknown[] = [];
    carol.join('lobby').leaving((m: unknown) => leaving.push(m));
    const dave = echoClient(graceful.client(app, { user: { id: 'dave', info: { name: 'Dave' } } }));
    await new Promise((resolve) => dave.join('lobby').here(resolve));
    await waitFor('dave counted', async () => (await survivor.node.control.users(app.id, 'presence-lobby')).includes('dave'), 5_000);

    await graceful.stop();
    // Released by the stop itself: nothing left in Redis for that node, whatever the reaper does.
    const redis = redisClient();
    try {
      expect(await redis.zscore(`${prefix}nodes`, 'graceful')).toBeNull();
      expect(await redis.exists(`${prefix}node:graceful`)).toBe(0);
    } finally {
      redis.disconnect();
    }
    await waitFor('dave leaving', () => leaving.length === 1, 5_000);
    expect(await survivor.node.control.users(app.id, 'presence-lobby')).toEqual(['carol']);
  });
});
