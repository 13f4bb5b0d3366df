import { expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { testApp } from '../../support/realtime-apps.js';
import { nextEvent } from '../../support/realtime-clients.js';
import { describeOnRedis } from '../../support/redis.js';
import { waitFor } from '../../support/waiting.js';
import { slowAndQuickNodes } from './cluster-harness.js';

/**
 * Two nodes change one channel's subscriber count one after the other: the clients must end
 * on the cluster's latest total, whichever node is slower to act on Redis' answer, not on a
 * stale pusher:subscription_count that overtook the newer one.
 */
await describeOnRedis('subscription counts changed on two nodes', () => {
  const app = testApp({ subscriptionCountEnabled: true });
  const lagMs = 400;
  const nodes = slowAndQuickNodes({ app, kind: 'count', lagMs });

  it('leaves every client with the latest cluster total', async () => {
    const { slow, quick } = nodes();
    const watcher = quick.client(app);
    await nextEvent(watcher, 'room', 'pusher:subscription_succeeded');
    const counts: number[] = [];
    watcher.channel('room').bind('pusher:subscription_count', (d: { subscription_count: number }) => counts.push(d.subscription_count));
    const total = async () => (await quick.node.control.channel(app.id, 'room')).subscriptionCount;
    await waitFor('the watcher counted', async () => (await total()) === 1, 5_000);

    await nextEvent(slow.client(app), 'room', 'pusher:subscription_succeeded');
    await waitFor('Redis counts 2', async () => (await total()) === 2, 5_000);
    await nextEvent(quick.client(app), 'room', 'pusher:subscription_succeeded');
    await waitFor('Redis counts 3', async () => (await total()) === 3, 5_000);
    await waitFor('two counts at the watcher', () => counts.length >= 2, lagMs + 5_000);
    await sleep(lagMs + 200);

    expect(counts.at(-1)).toBe(3);
  });
});
