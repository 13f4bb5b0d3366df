import { afterAll, beforeAll, expect, it } from 'vitest';
import { testApp } from '../../support/realtime-apps.js';
import { echoClient, nextEvent, whenConnected, type PusherClient } from '../../support/realtime-clients.js';
import { deleteRedisKeys, describeOnRedis, REDIS_URL, redisTestPrefix } from '../../support/redis.js';
import { waitFor, within } from '../../support/waiting.js';
import { startClusterNode, type ClusterNode } from './cluster-harness.js';

/**
 * Three nodes of one cluster over the shared Redis, real pusher-js / Echo clients on
 * different nodes, the `pusher` SDK against either node: they behave as one Pusher server.
 */
await describeOnRedis('a cluster of three nodes over Redis', () => {
  const app = testApp({ subscriptionCountEnabled: true });
  const prefix = redisTestPrefix();
  let a: ClusterNode;
  let b: ClusterNode;
  let c: ClusterNode;

  beforeAll(async () => {
    const start = (n: string) => startClusterNode(`node-${n}`, { url: REDIS_URL, prefix, apps: [app] });
    [a, b, c] = await Promise.all([start('a'), start('b'), start('c')]);
  });
  afterAll(async () => {
    await Promise.all([a, b, c].map((n) => n?.stop()));
    await deleteRedisKeys(prefix);
  });

  const subscribed = (client: PusherClient, channel: string) => nextEvent(client, channel, 'pusher:subscription_succeeded');
  const collect = (client: PusherClient, channel: string, event: string) => {
    const seen: unknown[] = [];
    client.channel(channel).bind(event, (data: unknown) => seen.push(data));
    return seen;
  };

  it('delivers an event published on one node to the clients of every node exactly once', async () => {
    const clients = [b.client(app), c.client(app), c.client(app)];
    await Promise.all(clients.map((cl) => subscribed(cl, 'orders')));
    const seen = clients.map((cl) => collect(cl, 'orders', 'OrderShipped'));
    for (let i = 0; i < 5; i += 1) await a.sdk(app).trigger('orders', 'OrderShipped', { i });
    await waitFor('five events on every client', () => seen.every((s) => s.length >= 5), 10_000);
    // A late duplicate would arrive after a marker published behind it.
    await c.sdk(app).trigger('orders', 'OrderShipped', { i: 'marker' });
    await waitFor('the marker', () => seen.every((s) => s.length >= 6), 10_000);
    for (const s of seen) expect(s).toEqual([...[0, 1, 2, 3, 4].map((i) => ({ i })), { i: 'marker' }]);
  });

  it("excludes the socket_id given (Echo's toOthers) on whichever node it is", async () => {
    const [sender, other] = [b.client(app), c.client(app)];
    await Promise.all([subscribed(sender, 'private-board'), subscribed(other, 'private-board')]);
    const [gotSender, gotOther] = [collect(sender, 'private-board', 'Moved'), collect(other, 'private-board', 'Moved')];
    await a.sdk(app).trigger('private-board', 'Moved', { n: 1 }, { socket_id: sender.connection.socket_id });
    await a.sdk(app).trigger('private-board', 'Moved', { n: 2 });
    await waitFor('both events at the other client', () => gotOther.length === 2, 10_000);
    await waitFor('the second at the sender', () => gotSender.length === 1, 10_000);
    expect(gotSender).toEqual([{ n: 2 }]);
  });

  it('relays client events to the subscribers on other nodes, with the sender\'s user id, never back to the sender', async () => {
    const [ann, ben] = [b.client(app, { user: { id: 'ann' } }), c.client(app, { user: { id: 'ben' } })];
    await Promise.all([subscribed(ann, 'presence-chat'), subscribed(ben, 'presence-chat')]);
    const atBen: Array<{ data: unknown; user_id?: string }> = [];
    const atAnn: unknown[] = [];
    ben.channel('presence-chat').bind('client-typing', (data: unknown, meta: { user_id?: string }) => atBen.push({ data, user_id: meta?.user_id }));
    ann.channel('presence-chat').bind('client-typing', (data: unknown) => atAnn.push(data));
    ann.channel('presence-chat').trigger('client-typing', { n: 1 });
    await waitFor('the client event on node c', () => atBen.length === 1, 10_000);
    expect(atBen).toEqual([{ data: { n: 1 }, user_id: 'ann' }]);
    const marker = nextEvent(ann, 'presence-chat', 'Marker');
    await a.sdk(app).trigger('presence-chat', 'Marker', {});
    await marker;
    expect(atAnn).toEqual([]);
  });

  it('keeps presence members cluster-wide: here, joining and leaving, one user on two nodes counted once', async () => {
    const channel = 'presence-room';
    const alice = echoClient(a.client(app, { user: { id: 'alice', info: { name: 'Alice' } } }));
    const hereOfAlice = new Promise<unknown[]>((resolve) => alice.join('room').here(resolve));
    expect(await hereOfAlice).toEqual([{ name: 'Alice' }]);
    const joining: unknown[] = [];
    const leaving: unknown[] = [];
    alice.join('room').joining((m: unknown) => joining.push(m)).leaving((m: unknown) => leaving.push(m));

    const bobClient = b.client(app, { user: { id: 'bob', info: { name: 'Bob' } } });
    const bob = echoClient(bobClient);
    const hereOfBob = await new Promise<unknown[]>((resolve) => bob.join('room').here(resolve));
    expect(hereOfBob).toEqual(expect.arrayContaining([{ name: 'Alice' }, { name: 'Bob' }]));
    expect(hereOfBob).toHaveLength(2);
    await waitFor('bob joining, seen on node a', () => joining.length === 1, 10_000);

    // Alice again, on node c: not a new member anywhere.
    const alice2 = echoClient(c.client(app, { user: { id: 'alice', info: { name: 'Alice' } } }));
    const hereOfAlice2 = await new Promise<unknown[]>((resolve) => alice2.join('room').here(resolve));
    expect(hereOfAlice2).toHaveLength(2);

    for (const node of [a, b, c]) {
      await waitFor(
        `cluster counts from ${node.name}`,
        async () => {
          const info = (await (await node.sdk(app).get({ path: `/channels/${channel}`, params: { info: 'user_count,subscription_count' } })).json()) as {
            user_count: number;
            subscription_count: number;
          };
          return info.user_count === 2 && info.subscription_count === 3;
        },
        10_000,
      );
      const users = (await (await node.sdk(app).get({ path: `/channels/${channel}/users` })).json()) as { users: Array<{ id: string }> };
      expect(users.users.map((u) => u.id).sort()).toEqual(['alice', 'bob']);
    }

    // Alice leaves node c: she is still on node a, so nobody hears of it.
    alice2.leave('room');
    bob.leave('room');
    await waitFor('bob leaving, seen on node a', () => leaving.length === 1, 10_000);
    expect(leaving).toEqual([{ name: 'Bob' }]);
    expect(joining).toEqual([{ name: 'Bob' }]);
    await waitFor('member_removed reported once, for bob', () => [a, b, c].flatMap((n) => n.sink.named('member_removed')).length === 1, 10_000);
    expect([a, b, c].flatMap((n) => n.sink.named('member_removed')).map((o) => o.user_id)).toEqual(['bob']);
    const added = [a, b, c].flatMap((n) => n.sink.named('member_added')).filter((o) => o.channel === channel);
    expect(added.map((o) => o.user_id).sort()).toEqual(['alice', 'bob']);
  });

  it('answers channels and channel info with the cluster totals from any node', async () => {
    const clients = [a.client(app), b.client(app), c.client(app)];
    await Promise.all(clients.map((cl) => subscribed(cl, 'stats-x')));
    for (const node of [a, b, c]) {
      await waitFor(
        `stats-x from ${node.name}`,
        async () => {
          const res = (await (await node.sdk(app).get({ path: '/channels', params: { filter_by_prefix: 'stats-' } })).json()) as {
            channels: Record<string, unknown>;
          };
          const info = (await (await node.sdk(app).get({ path: '/channels/stats-x', params: { info: 'subscription_count' } })).json()) as {
            occupied: boolean;
            subscription_count: number;
          };
          return Object.keys(res.channels).join() === 'stats-x' && info.occupied && info.subscription_count === 3;
        },
        10_000,
      );
    }
    // pusher_internal:subscription_count carries the cluster total to every node's clients.
    const counts = collect(clients[0]!, 'stats-x', 'pusher:subscription_count');
    const fourth = c.client(app);
    await subscribed(fourth, 'stats-x');
    await waitFor('count 4 on node a', () => counts.some((x) => (x as { subscription_count: number }).subscription_count === 4), 10_000);
    const occupied = [a, b, c].flatMap((n) => n.sink.named('channel_occupied')).filter((o) => o.channel === 'stats-x');
    expect(occupied).toHaveLength(1);
    for (const cl of [...clients, fourth]) cl.unsubscribe('stats-x');
    await waitFor(
      'vacated once, cluster-wide',
      () => [a, b, c].flatMap((n) => n.sink.named('channel_vacated')).filter((o) => o.channel === 'stats-x').length === 1,
      10_000,
    );
  });

  it("terminates a user's connections on every node, and no one else's", async () => {
    const signedIn = async (node: ClusterNode, id: string) => {
      const cl = node.client(app, { signin: { id } });
      await whenConnected(cl, 5_000);
      cl.signin();
      await waitFor(`${id} signed in on ${node.name}`, () => cl.user.user_data !== null, 5_000);
      return cl;
    };
    const [here, there, bystander] = await Promise.all([signedIn(b, 'mallory'), signedIn(c, 'mallory'), signedIn(c, 'trent')]);
    const closedWith = (cl: PusherClient) =>
      within(
        new Promise<number>((resolve) => cl.connection.bind('error', (e: { data?: { code?: number } }) => e.data?.code !== undefined && resolve(e.data.code))),
        'pusher:error before the close',
        5_000,
      );
    const codes = Promise.all([closedWith(here), closedWith(there)]);
    await a.sdk(app).terminateUserConnections('mallory');
    expect(await codes).toEqual([4009, 4009]);
    expect(bystander.connection.state).toBe('connected');
    await waitFor(
      "trent's user channel counted, mallory's not",
      async () => (await a.node.control.channel(app.id, '#server-to-user-trent')).occupied && !(await a.node.control.channel(app.id, '#server-to-user-mallory')).occupied,
      5_000,
    );
  });

  it('replays a cache channel on another node than the one it was published through', async () => {
    await a.sdk(app).trigger('cache-menu', 'MenuChanged', { v: 1 });
    const late = c.client(app);
    const replayed = nextEvent(late, 'cache-menu', 'MenuChanged');
    expect(await replayed).toEqual({ v: 1 });
    const info = (await (await b.sdk(app).get({ path: '/channels/cache-menu', params: { info: 'cache' } })).json()) as { cache?: unknown };
    expect(info.cache).toEqual({ event: 'MenuChanged', data: '{"v":1}' });
  });

  it('reported no server errors', () => {
    expect([a, b, c].flatMap((n) => n.errors)).toEqual([]);
  });
});
