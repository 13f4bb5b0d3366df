import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import Pusher from 'pusher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pusherHttpApi, RealtimeNode } from '../../../src/realtime/index.js';
import { testApp } from '../../support/realtime-apps.js';
import { nextEvent, pusherClient, whenConnected, type ClientIdentity, type PusherClient } from '../../support/realtime-clients.js';
import { waitFor, within } from '../../support/waiting.js';

/**
 * The real `pusher` SDK against the real thing: a RealtimeNode attached to a Fastify server
 * that also serves the HTTP API with `control: node.control`, and real pusher-js clients on
 * the same port. What the SDK publishes must reach the sockets; what it asks must describe
 * them. (The other HTTP API tests run the SDK against a fake control.)
 */
describe('the pusher SDK against a real node and real pusher-js clients', () => {
  const app = testApp();
  let node: RealtimeNode;
  let server: FastifyInstance;
  let port: number;
  let sdk: Pusher;
  const errors: unknown[] = [];
  const clients: PusherClient[] = [];

  // A public/private subscriber, two connections of alice and one of bob on the presence channel.
  let watcher: PusherClient;
  let alice1: PusherClient;
  let alice2: PusherClient;
  let bob: PusherClient;

  const client = (who: ClientIdentity = {}) => {
    const c = pusherClient(port, app, who);
    clients.push(c);
    return c;
  };
  const subscribed = (c: PusherClient, channel: string) => nextEvent(c, channel, 'pusher:subscription_succeeded');
  const json = async (res: { json(): Promise<unknown> }) => res.json();

  /** Every `event` on `channel` that `c` receives from now on. */
  const collect = (c: PusherClient, channel: string, event: string) => {
    const seen: unknown[] = [];
    c.channel(channel).bind(event, (data: unknown) => seen.push(data));
    return seen;
  };

  beforeAll(async () => {
    node = new RealtimeNode({ apps: [app], transport: { closeGraceMs: 2_000 }, onError: (e) => errors.push(e) });
    node.start();
    server = Fastify({ logger: false });
    await server.register(pusherHttpApi, { control: node.control });
    node.attach(server.server);
    await server.listen({ host: '127.0.0.1', port: 0 });
    port = (server.server.address() as AddressInfo).port;
    sdk = new Pusher({ appId: app.id, key: app.key, secret: app.secret, host: '127.0.0.1', port: String(port), useTLS: false, timeout: 5_000 });

    watcher = client();
    alice1 = client({ user: { id: 'alice', info: { name: 'Alice' } } });
    alice2 = client({ user: { id: 'alice', info: { name: 'Alice' } } });
    bob = client({ user: { id: 'bob', info: { name: 'Bob' } } });
    await Promise.all([
      subscribed(watcher, 'orders'),
      subscribed(watcher, 'private-store.1'),
      subscribed(alice1, 'presence-room'),
      subscribed(alice2, 'presence-room'),
      subscribed(bob, 'presence-room'),
    ]);
    // A channel that was occupied once and is empty again must not be listed.
    const passer = client();
    await subscribed(passer, 'orders-vacated');
    passer.unsubscribe('orders-vacated');
    await waitFor('orders-vacated vacated', async () => !(await node.control.channel(app.id, 'orders-vacated')).occupied, 5_000);
  });

  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await node?.stop(2_000);
    await server?.close();
    expect(errors).toEqual([]);
  });

  it('triggers an event on one channel to its subscriber, data as the SDK encoded it', async () => {
    const got = nextEvent(watcher, 'orders', 'OrderShipped', 5_000);
    const res = await sdk.trigger('orders', 'OrderShipped', { id: 1, note: 'Grüße "quoted"' });
    expect(res.status).toBe(200);
    expect(await got).toEqual({ id: 1, note: 'Grüße "quoted"' });
  });

  it('triggers an event on many channels of different kinds at once', async () => {
    const got = Promise.all([
      nextEvent(watcher, 'orders', 'Many', 5_000),
      nextEvent(watcher, 'private-store.1', 'Many', 5_000),
      nextEvent(alice1, 'presence-room', 'Many', 5_000),
      nextEvent(alice2, 'presence-room', 'Many', 5_000),
      nextEvent(bob, 'presence-room', 'Many', 5_000),
    ]);
    await sdk.trigger(['orders', 'private-store.1', 'presence-room'], 'Many', { n: 3 });
    expect(await got).toEqual(Array(5).fill({ n: 3 }));
  });

  it('leaves out the connection named by socket_id, not the other connection of the same user', async () => {
    const excluded = collect(alice1, 'presence-room', 'NotForYou');
    const got = Promise.all([nextEvent(alice2, 'presence-room', 'NotForYou', 5_000), nextEvent(bob, 'presence-room', 'NotForYou', 5_000)]);
    await sdk.trigger('presence-room', 'NotForYou', { x: 1 }, { socket_id: alice1.connection.socket_id });
    expect(await got).toEqual([{ x: 1 }, { x: 1 }]);
    // Events on one channel arrive in order: once the next one is here, the first never will be.
    const after = nextEvent(alice1, 'presence-room', 'ForEveryone', 5_000);
    await sdk.trigger('presence-room', 'ForEveryone', { x: 2 });
    expect(await after).toEqual({ x: 2 });
    expect(excluded).toEqual([]);
  });

  it('triggers a batch of events, each to its channel', async () => {
    const got = Promise.all([nextEvent(watcher, 'orders', 'First', 5_000), nextEvent(bob, 'presence-room', 'Second', 5_000)]);
    const res = await sdk.triggerBatch([
      { channel: 'orders', name: 'First', data: { i: 1 } },
      { channel: 'presence-room', name: 'Second', data: { i: 2 } },
    ]);
    expect(await json(res)).toEqual({ batch: [{}, {}] });
    expect(await got).toEqual([{ i: 1 }, { i: 2 }]);
  });

  it('lists occupied channels only, filtered by prefix, with user_count for presence', async () => {
    expect(await json(await sdk.get({ path: '/channels' }))).toEqual({
      channels: { orders: {}, 'private-store.1': {}, 'presence-room': {} },
    });
    expect(await json(await sdk.get({ path: '/channels', params: { filter_by_prefix: 'private-' } }))).toEqual({
      channels: { 'private-store.1': {} },
    });
    expect(await json(await sdk.get({ path: '/channels', params: { filter_by_prefix: 'presence-', info: 'user_count' } }))).toEqual({
      channels: { 'presence-room': { user_count: 2 } },
    });
  });

  it('describes one channel: distinct users and connections', async () => {
    const res = await sdk.get({ path: '/channels/presence-room', params: { info: 'user_count,subscription_count' } });
    expect(await json(res)).toEqual({ occupied: true, user_count: 2, subscription_count: 3 });
    const priv = await sdk.get({ path: '/channels/private-store.1', params: { info: 'subscription_count' } });
    expect(await json(priv)).toEqual({ occupied: true, subscription_count: 1 });
  });

  it('answers occupied: false for a channel nobody is on', async () => {
    expect(await json(await sdk.get({ path: '/channels/nobody-here' }))).toEqual({ occupied: false });
    expect(await json(await sdk.get({ path: '/channels/orders-vacated' }))).toEqual({ occupied: false });
  });

  it('lists the distinct users of a presence channel', async () => {
    const { users } = (await json(await sdk.get({ path: '/channels/presence-room/users' }))) as { users: Array<{ id: string }> };
    expect(users.map((u) => u.id).sort()).toEqual(['alice', 'bob']);
  });

  it("terminates every connection of a signed-in user and no one else's", async () => {
    const signedIn = async (id: string) => {
      const c = client({ signin: { id } });
      await whenConnected(c, 5_000);
      c.signin();
      await waitFor(`${id} signed in`, () => c.user.user_data !== null, 5_000);
      return c;
    };
    const [carol1, carol2, dave] = await Promise.all([signedIn('carol'), signedIn('carol'), signedIn('dave')]);
    const closedWith = (c: PusherClient) =>
      within(
        new Promise<number>((resolve) =>
          c.connection.bind('error', (e: { data?: { code?: number } }) => e.data?.code !== undefined && resolve(e.data.code)),
        ),
        'pusher:error before the close',
        5_000,
      );
    const codes = Promise.all([closedWith(carol1), closedWith(carol2)]);

    const res = await sdk.terminateUserConnections('carol');
    expect(await json(res)).toEqual({});
    expect(await codes).toEqual([4009, 4009]);
    // 4009 is in 4000–4099: pusher-js must not reconnect.
    await waitFor('carol disconnected', () => carol1.connection.state !== 'connected' && carol2.connection.state !== 'connected', 5_000);
    expect(dave.connection.state).toBe('connected');
    expect((await node.control.channel(app.id, '#server-to-user-dave')).occupied).toBe(true);
    expect((await node.control.channel(app.id, '#server-to-user-carol')).occupied).toBe(false);
  });
});
