import { expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { testApp } from '../../support/realtime-apps.js';
import { nextEvent } from '../../support/realtime-clients.js';
import { describeOnRedis } from '../../support/redis.js';
import { waitFor } from '../../support/waiting.js';
import { slowAndQuickNodes } from './cluster-harness.js';

/**
 * A user leaves on one node and joins on another (a client moving after a 4200, a node
 * draining thousands of sockets): Redis decides "last one anywhere" then "first one
 * anywhere", in that order. The member_removed and member_added must reach every client in
 * that order too, however slow the leaving node is to act on Redis' answer — or the others
 * are left believing a present member is gone.
 */
await describeOnRedis('presence changes of one user on two nodes', () => {
  const app = testApp();
  const lagMs = 400;
  // The slow node takes `lagMs` between Redis' answer and its member message leaving (an
  // event loop busy closing sockets, say).
  const nodes = slowAndQuickNodes({ app, kind: 'member', lagMs });

  it('delivers member_removed then member_added, in the order Redis decided them', async () => {
    const { slow, quick } = nodes();
    const watcher = quick.client(app, { user: { id: 'watcher' } });
    await nextEvent(watcher, 'presence-room', 'pusher:subscription_succeeded');
    const seen: string[] = [];
    watcher.channel('presence-room').bind('pusher:member_added', (m: { id: string }) => seen.push(`added ${m.id}`));
    watcher.channel('presence-room').bind('pusher:member_removed', (m: { id: string }) => seen.push(`removed ${m.id}`));

    const first = slow.client(app, { user: { id: 'mover' } });
    await nextEvent(first, 'presence-room', 'pusher:subscription_succeeded');
    await waitFor('the watcher sees the mover arrive', () => seen.includes('added mover'), 5_000);

    first.unsubscribe('presence-room');
    await waitFor('Redis has the mover gone', async () => !(await quick.node.control.users(app.id, 'presence-room')).includes('mover'), 5_000);
    const second = quick.client(app, { user: { id: 'mover' } });
    await nextEvent(second, 'presence-room', 'pusher:subscription_succeeded');
    await waitFor('both changes at the watcher', () => seen.length >= 3, lagMs + 5_000);
    await sleep(lagMs + 200);

    expect(seen).toEqual(['added mover', 'removed mover', 'added mover']);
    const members = (watcher.channel('presence-room') as unknown as { members: { get(id: string): unknown } }).members;
    expect(members.get('mover')).not.toBeNull();
  });
});
