import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PusherApp } from '../../src/realtime/index.js';
import { testApp } from '../support/realtime-apps.js';
import { nextEvent, pusherClient, whenConnected, type PusherClient } from '../support/realtime-clients.js';
import { startRealtime, type RealtimeHarness } from '../support/realtime-server.js';
import { waitFor, within } from '../support/waiting.js';

describe('pusher-js 8.6 against the server', () => {
  const app = testApp({ subscriptionCountEnabled: true });
  let h: RealtimeHarness;
  const clients: PusherClient[] = [];
  const client = (who: Parameters<typeof pusherClient>[2] = {}, as: PusherApp = app) => {
    const c = pusherClient(h.port, as, who);
    clients.push(c);
    return c;
  };
  const publish = (channel: string, event: string, data: string, excludeSocketId?: string) =>
    h.node.control.publish({ appId: app.id, channels: [channel], event, data, excludeSocketId });

  beforeAll(async () => {
    h = await startRealtime({ apps: [app] });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.disconnect();
  });
  afterAll(async () => {
    await h.stop();
    expect(h.errors).toEqual([]);
  });

  it('connects with a socket id and a non-zero activity timeout', async () => {
    const c = client();
    const socketId = await whenConnected(c);
    expect(socketId).toMatch(/^\d+\.\d+$/);
    expect((c.connection as unknown as { activityTimeout: number }).activityTimeout).toBeGreaterThan(0);
  });

  it('delivers an event published to a public channel, data as published', async () => {
    const c = client();
    const subscribed = nextEvent(c, 'orders', 'pusher:subscription_succeeded');
    await subscribed;
    const got = nextEvent<{ id: number; note: string }>(c, 'orders', 'OrderShipped');
    await publish('orders', 'OrderShipped', JSON.stringify({ id: 1, note: 'Grüße "quoted"' }));
    expect(await got).toEqual({ id: 1, note: 'Grüße "quoted"' });
  });

  it('subscribes to a private channel with a valid signature and refuses a wrong one with 401', async () => {
    const good = client();
    await nextEvent(good, 'private-store.1', 'pusher:subscription_succeeded');
    const bad = client({}, { ...app, secret: 'not-the-secret' });
    const error = await nextEvent<{ type: string; status: number }>(bad, 'private-store.1', 'pusher:subscription_error');
    expect(error).toMatchObject({ type: 'AuthError', status: 401 });
    expect(bad.connection.state).toBe('connected');
  });

  it('tells subscribers the subscription count when the app opted in', async () => {
    const a = client();
    await nextEvent(a, 'counted', 'pusher:subscription_succeeded');
    const b = client();
    await nextEvent(b, 'counted', 'pusher:subscription_succeeded');
    const countOf = (c: PusherClient) => (c.channel('counted') as unknown as { subscriptionCount: number | null }).subscriptionCount;
    await waitFor('both see 2 subscribers', () => countOf(a) === 2 && countOf(b) === 2);
    expect(h.sink.named('subscription_count').some((o) => o.channel === 'counted' && o.subscription_count === 2)).toBe(true);
  });

  it('replays the last published event of a cache channel, else sends pusher:cache_miss', async () => {
    const first = client();
    const miss = nextEvent(first, 'cache-prices', 'pusher:cache_miss');
    await miss;
    expect(h.sink.named('cache_miss').map((o) => o.channel)).toContain('cache-prices');
    await publish('cache-prices', 'PriceChanged', '{"eur":3}');
    await publish('cache-prices', 'PriceChanged', '{"eur":4}');
    const late = client();
    expect(await nextEvent(late, 'cache-prices', 'PriceChanged')).toEqual({ eur: 4 });
    expect((await h.node.control.channel(app.id, 'cache-prices')).cache).toEqual({ event: 'PriceChanged', data: '{"eur":4}' });
  });

  it('signs a user in and delivers to #server-to-user-{id}', async () => {
    const c = client({ signin: { id: 'u-42' } });
    await whenConnected(c);
    const got = within(new Promise((resolve) => c.user.bind('Hello', resolve)), 'user event');
    c.signin();
    await waitFor('user channel subscribed', async () => (await h.node.control.channel(app.id, '#server-to-user-u-42')).subscriptionCount === 1);
    await publish('#server-to-user-u-42', 'Hello', '{"to":"u-42"}');
    expect(await got).toEqual({ to: 'u-42' });
  });

  it('sends watchlist online and offline events for watched users', async () => {
    const watcher = client({ signin: { id: 'watcher', watchlist: ['friend'] } });
    const events: Array<{ name: string; user_ids: string[] }> = [];
    watcher.user.watchlist.bind('online', (e: { name: string; user_ids: string[] }) => events.push(e));
    watcher.user.watchlist.bind('offline', (e: { name: string; user_ids: string[] }) => events.push(e));
    watcher.signin();
    await whenConnected(watcher);
    await waitFor('watcher signed in', () => watcher.user.user_data !== null);
    const friend = client({ signin: { id: 'friend' } });
    friend.signin();
    await waitFor('online event', () => events.some((e) => e.name === 'online'));
    friend.disconnect();
    await waitFor('offline event', () => events.some((e) => e.name === 'offline'));
    expect(events).toEqual([
      { name: 'online', user_ids: ['friend'] },
      { name: 'offline', user_ids: ['friend'] },
    ]);
  });

  it('reconnects and resubscribes after the server closes the connection with 4200', async () => {
    const c = client();
    await nextEvent(c, 'private-reconnect', 'pusher:subscription_succeeded');
    const firstSocket = c.connection.socket_id;
    const resubscribed = nextEvent(c, 'private-reconnect', 'pusher:subscription_succeeded');
    expect(h.node.server.disconnect(app.id, firstSocket)).toBe(true);
    await resubscribed;
    expect(c.connection.socket_id).not.toBe(firstSocket);
    const got = nextEvent(c, 'private-reconnect', 'Back');
    await publish('private-reconnect', 'Back', '"yes"');
    expect(await got).toBe('yes');
    expect(h.node.counters.dropped.ReconnectRequested).toBeGreaterThanOrEqual(1);
  });

  it('closes the connections of a terminated user with 4009', async () => {
    const c = client({ signin: { id: 'to-terminate' } });
    c.signin();
    await waitFor('signed in', () => c.user.user_data !== null);
    const closed = within(
      new Promise<{ data: { code: number } }>((resolve) => c.connection.bind('error', (e: { data: { code: number } }) => e.data?.code && resolve(e))),
      'close error',
    );
    await h.node.control.terminateUserConnections(app.id, 'to-terminate');
    expect((await closed).data.code).toBe(4009);
    await waitFor('disconnected', () => c.connection.state !== 'connected');
  });
});
