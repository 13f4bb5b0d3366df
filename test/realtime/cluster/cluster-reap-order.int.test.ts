import { afterAll, beforeAll, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { testApp } from '../../support/realtime-apps.js';
import { nextEvent } from '../../support/realtime-clients.js';
import { deleteRedisKeys, describeOnRedis, REDIS_URL, redisTestPrefix } from '../../support/redis.js';
import { waitFor } from '../../support/waiting.js';
import { lagging, startClusterNode, type ClusterNode } from './cluster-harness.js';

/**
 * A node dies; a survivor reaps it (member_removed for its user) and the user, reconnecting,
 * joins on a survivor right after (member_added). However slow the reaper is to act on
 * Redis' answer, every client must hear the two in that order and end with the user present.
 */
await describeOnRedis("a dead node's member who comes back on another node", () => {
  const app = testApp();
  const prefix = redisTestPrefix();
  const lagMs = 400;
  const timings = { heartbeatMs: 100, nodeTtlMs: 800 };
  let s1: ClusterNode;
  let s2: ClusterNode;
  let doomed: ClusterNode;

  beforeAll(async () => {
    // Both survivors are slow between Redis' answer and their member messages leaving.
    const laggard = lagging('member', lagMs);
    const start = (name: string, slow: boolean) =>
      startClusterNode(name, { url: REDIS_URL, prefix, apps: [app], ...timings, ...(slow && { stateFanout: laggard }) });
    [s1, s2, doomed] = await Promise.all([start('s1', true), start('s2', true), start('doomed', false)]);
  });
  afterAll(async () => {
    await Promise.all([s1, s2, doomed].map((n) => n?.stop()));
    await deleteRedisKeys(prefix);
  });

  it('delivers the reaper\'s member_removed before the member_added that followed it in Redis', async () => {
    const watcher = s2.client(app, { user: { id: 'watcher' } });
    await nextEvent(watcher, 'presence-room', 'pusher:subscription_succeeded');
    const seen: string[] = [];
    watcher.channel('presence-room').bind('pusher:member_added', (m: { id: string }) => seen.push(`added ${m.id}`));
    watcher.channel('presence-room').bind('pusher:member_removed', (m: { id: string }) => seen.push(`removed ${m.id}`));
    await nextEvent(doomed.client(app, { user: { id: 'mover' } }), 'presence-room', 'pusher:subscription_succeeded');
    await waitFor('the watcher sees the mover arrive', () => seen.includes('added mover'), 5_000);

    await doomed.die();
    await waitFor('the dead node reaped', async () => !(await s1.node.control.users(app.id, 'presence-room')).includes('mover'), 10_000);
    await nextEvent(s1.client(app, { user: { id: 'mover' } }), 'presence-room', 'pusher:subscription_succeeded');
    await waitFor('both changes at the watcher', () => seen.length >= 3, lagMs + 5_000);
    await sleep(lagMs + 200);

    expect(seen).toEqual(['added mover', 'removed mover', 'added mover']);
  });
});
