import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { APP, startHttpApi, type HttpApiHarness } from './http-api-harness.js';

/**
 * The Pusher HTTP API driven by the real `pusher` SDK over a real socket, in front of an
 * in-memory RealtimeControl that records what would be published.
 */
let h: HttpApiHarness;
const sdk = () => h.sdk(APP);

beforeAll(async () => {
  h = await startHttpApi();
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  h.control.publications.length = 0;
});

describe('publishing', () => {
  it('publishes an SDK trigger to one channel, relaying string data byte for byte, and answers {}', async () => {
    const res = await sdk().trigger('orders', 'order-shipped', '{"id": 7,  "spaced":true}');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    expect(h.control.publications).toEqual([
      { appId: '1', channels: ['orders'], event: 'order-shipped', data: '{"id": 7,  "spaced":true}', excludeSocketId: undefined },
    ]);
  });

  it('publishes one event to many channels once, JSON-encoding object data as the SDK does', async () => {
    const channels = Array.from({ length: 100 }, (_, i) => `private-c${i}`);
    await sdk().trigger(channels, 'tick', { n: 1 });
    expect(h.control.publications).toHaveLength(1);
    expect(h.control.publications[0]).toMatchObject({ channels, event: 'tick', data: '{"n":1}' });
  });

  it('passes the socket_id through as the connection to exclude', async () => {
    await sdk().trigger('orders', 'changed', '{}', { socket_id: '123.456' });
    expect(h.control.publications[0]?.excludeSocketId).toBe('123.456');
  });

  it('answers the requested channel attributes, user_count only for presence channels', async () => {
    h.control.occupy('1', 'presence-room', { subscriptions: 3, users: ['a', 'b'] });
    h.control.occupy('1', 'lobby', { subscriptions: 5 });
    const res = await sdk().trigger(['presence-room', 'lobby'], 'hello', 'x', { info: 'user_count,subscription_count' });
    expect(await res.json()).toEqual({
      channels: { 'presence-room': { user_count: 2, subscription_count: 3 }, lobby: { subscription_count: 5 } },
    });
  });

  it('publishes to a signed-in user with sendToUser', async () => {
    await sdk().sendToUser('42', 'notice', { hi: true });
    expect(h.control.publications[0]).toMatchObject({ channels: ['#server-to-user-42'], event: 'notice', data: '{"hi":true}' });
  });

  it('publishes a batch in order and answers one entry per event', async () => {
    h.control.occupy('1', 'presence-batch', { subscriptions: 2, users: ['u1'] });
    const res = await sdk().triggerBatch([
      { channel: 'a', name: 'first', data: { i: 1 } },
      { channel: 'presence-batch', name: 'second', data: '2', socket_id: '1.2', info: 'user_count,subscription_count' },
    ]);
    expect(await res.json()).toEqual({ batch: [{}, { user_count: 1, subscription_count: 2 }] });
    expect(h.control.publications).toEqual([
      { appId: '1', channels: ['a'], event: 'first', data: '{"i":1}', excludeSocketId: undefined },
      { appId: '1', channels: ['presence-batch'], event: 'second', data: '2', excludeSocketId: '1.2' },
    ]);
  });
});

describe('querying channels', () => {
  beforeAll(() => {
    h.control.occupy('1', 'presence-q1', { subscriptions: 4, users: ['1', '2', '3'] });
    h.control.occupy('1', 'presence-q2', { subscriptions: 1, users: ['9'] });
    h.control.occupy('1', 'presence-empty', { subscriptions: 0 });
    h.control.occupy('1', 'private-q', { subscriptions: 2 });
    h.control.occupy('1', 'cache-prices', { subscriptions: 1, cache: { event: 'price', data: '{"eur":3}' } });
  });

  it('lists occupied channels with a prefix and their user counts', async () => {
    const res = await sdk().get({ path: '/channels', params: { filter_by_prefix: 'presence-q', info: 'user_count' } });
    expect(await res.json()).toEqual({ channels: { 'presence-q1': { user_count: 3 }, 'presence-q2': { user_count: 1 } } });
  });

  it('lists every occupied channel without attributes when none are asked for', async () => {
    const body = (await (await sdk().get({ path: '/channels' })).json()) as { channels: Record<string, object> };
    expect(body.channels['private-q']).toEqual({});
    expect(body.channels['cache-prices']).toEqual({});
    expect(body.channels['presence-empty']).toBeUndefined();
  });

  it('answers one channel with the asked attributes', async () => {
    const res = await sdk().get({ path: '/channels/presence-q1', params: { info: 'user_count,subscription_count' } });
    expect(await res.json()).toEqual({ occupied: true, user_count: 3, subscription_count: 4 });
    const plain = await sdk().get({ path: '/channels/nobody-here' });
    expect(await plain.json()).toEqual({ occupied: false });
  });

  it("answers a cache channel's last event when asked for cache", async () => {
    const res = await sdk().get({ path: '/channels/cache-prices', params: { info: 'cache,subscription_count' } });
    expect(await res.json()).toEqual({ occupied: true, subscription_count: 1, cache: { event: 'price', data: '{"eur":3}' } });
  });

  it("lists a presence channel's distinct users", async () => {
    const res = await sdk().get({ path: '/channels/presence-q1/users' });
    expect(await res.json()).toEqual({ users: [{ id: '1' }, { id: '2' }, { id: '3' }] });
  });
});

describe('users', () => {
  it("terminates a user's connections", async () => {
    const res = await sdk().terminateUserConnections('user-7');
    expect(await res.json()).toEqual({});
    expect(h.control.terminated).toContainEqual({ appId: '1', userId: 'user-7' });
  });

  it('verifies a user id that travels escaped in the path, as the SDK signs it unescaped', async () => {
    await sdk().terminateUserConnections('Ada Lovelace@example.org');
    expect(h.control.terminated).toContainEqual({ appId: '1', userId: 'Ada Lovelace@example.org' });
  });
});

describe('mounted under a prefix', () => {
  it('verifies SDK requests signed over /apps/… while served under /pusher', async () => {
    const prefixed = h.sdk(APP, { prefix: '/pusher' });
    await prefixed.trigger('mounted', 'ev', '1');
    expect(h.control.publications.at(-1)).toMatchObject({ channels: ['mounted'], event: 'ev' });
    const res = await prefixed.get({ path: '/channels/presence-q1/users' });
    expect(res.status).toBe(200);
  });

  it('keeps its raw-body parser to itself: the root still parses JSON', async () => {
    const res = await h.server.inject({ method: 'POST', url: '/echo', payload: { a: 1 } });
    expect(res.json()).toEqual({ got: { a: 1 } });
  });
});
