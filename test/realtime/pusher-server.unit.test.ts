import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalFanout, LocalRealtimeControl, PusherServer, StaticAppRegistry, type PusherApp } from '../../src/realtime/index.js';
import { testApp, testSign } from '../support/realtime-apps.js';
import { MemoryConnection } from '../support/realtime-memory-connection.js';
import { RecordingSink } from '../support/realtime-server.js';

/** The protocol layer alone, on in-memory connections: no sockets, a clock we move by hand. */
function given(app: PusherApp = testApp()) {
  let now = 1_000_000;
  const sink = new RecordingSink();
  const errors: unknown[] = [];
  const apps = new StaticAppRegistry([app]);
  const fanout = new LocalFanout();
  const server = new PusherServer({
    apps,
    fanout,
    occurrences: sink,
    now: () => now,
    onError: (e) => errors.push(e),
    limits: { maxBufferedBytes: 1_000 },
  });
  server.start();
  const control = new LocalRealtimeControl(apps, fanout, server.state);
  /** Publishing as the HTTP API would. */
  const publish = (channel: string, event: string, data: string, excludeSocketId?: string) =>
    control.publish({ appId: app.id, channels: [channel], event, data, excludeSocketId });
  let next = 1;
  const connect = () => {
    const conn = new MemoryConnection(`${next}.${next++}`, app);
    server.open(conn);
    return conn;
  };
  const send = (conn: MemoryConnection, message: unknown) => server.message(conn, Buffer.from(JSON.stringify(message)), false);
  const subscribe = (conn: MemoryConnection, channel: string, channelData?: string) =>
    send(conn, {
      event: 'pusher:subscribe',
      data: {
        channel,
        ...(!channel.startsWith('private-') && !channel.startsWith('presence-')
          ? {}
          : { auth: testSign.channel(app, conn.socketId, channel, channelData), channel_data: channelData }),
      },
    });
  return { app, server, sink, errors, connect, send, subscribe, publish, advance: (ms: number) => (now += ms) };
}

describe('PusherServer (protocol layer)', () => {
  let stop: (() => void) | undefined;
  afterEach(() => stop?.());

  it('builds a channel frame once and writes the same Buffer to every subscriber but the excluded one', async () => {
    const g = given();
    stop = () => g.server.stop();
    const [a, b, c] = [g.connect(), g.connect(), g.connect()];
    for (const conn of [a, b, c]) g.subscribe(conn, 'orders');
    const before = [a, b, c].map((conn) => conn.sent.length);

    await g.publish('orders', 'OrderShipped', '{"n":1}', c.socketId);

    const [fa, fb] = [a.sent[before[0]!], b.sent[before[1]!]];
    expect(fa).toBeDefined();
    expect(fa).toBe(fb);
    expect(c.sent).toHaveLength(before[2]!);
    expect(JSON.parse(fa!.toString())).toEqual({ event: 'OrderShipped', channel: 'orders', data: '{"n":1}' });
  });

  it('reports occupied and vacated once, and one subscription count per turn', async () => {
    const g = given();
    stop = () => g.server.stop();
    const conns = [g.connect(), g.connect(), g.connect()];
    for (const conn of conns) g.subscribe(conn, 'busy');
    await nextTurn();
    expect(g.sink.named('channel_occupied')).toEqual([{ appId: '1', name: 'channel_occupied', channel: 'busy' }]);
    expect(g.sink.named('subscription_count').map((o) => o.subscription_count)).toEqual([3]);
    for (const conn of conns) g.server.close(conn);
    expect(g.sink.named('channel_vacated')).toHaveLength(1);
  });

  it('counts presence members as distinct users: added on the first connection, removed with the last', () => {
    const g = given();
    stop = () => g.server.stop();
    const [tab1, tab2, other] = [g.connect(), g.connect(), g.connect()];
    g.subscribe(tab1, 'presence-room', '{"user_id":7,"user_info":{"name":"Ann"}}');
    g.subscribe(other, 'presence-room', '{"user_id":"8"}');
    g.subscribe(tab2, 'presence-room', '{"user_id":7,"user_info":{"name":"Ann"}}');

    expect(tab2.frames('pusher_internal:subscription_succeeded')[0]?.data).toEqual({
      presence: { ids: ['7', '8'], hash: { '7': { name: 'Ann' }, '8': {} }, count: 2 },
    });
    expect(other.frames('pusher_internal:member_added')).toEqual([]);
    expect(tab1.frames('pusher_internal:member_added').map((f) => f.data)).toEqual([{ user_id: '8', user_info: {} }]);

    g.server.close(tab1);
    expect(other.frames('pusher_internal:member_removed')).toEqual([]);
    g.server.close(tab2);
    expect(other.frames('pusher_internal:member_removed').map((f) => f.data)).toEqual([{ user_id: '7' }]);
    expect(g.sink.named('member_added').map((o) => o.user_id)).toEqual(['7', '8']);
    expect(g.sink.named('member_removed').map((o) => o.user_id)).toEqual(['7']);
  });

  it('refuses the 101st distinct user of a presence channel but not another tab of a member', () => {
    const g = given();
    stop = () => g.server.stop();
    const first = g.connect();
    g.subscribe(first, 'presence-full', '{"user_id":0}');
    for (let i = 1; i < 100; i++) g.subscribe(g.connect(), 'presence-full', `{"user_id":${i}}`);
    const late = g.connect();
    g.subscribe(late, 'presence-full', '{"user_id":100}');
    expect(late.frames('pusher:subscription_error')[0]?.data).toMatchObject({ type: 'LimitReached' });
    const secondTab = g.connect();
    g.subscribe(secondTab, 'presence-full', '{"user_id":0}');
    expect(secondTab.frames('pusher_internal:subscription_succeeded')[0]?.data.presence.count).toBe(100);
  });

  it('rate-limits client events per connection per second of the clock', () => {
    const g = given();
    stop = () => g.server.stop();
    const [a, b] = [g.connect(), g.connect()];
    g.subscribe(a, 'private-chat');
    g.subscribe(b, 'private-chat');
    for (let i = 0; i < 11; i++) g.send(a, { event: 'client-typing', channel: 'private-chat', data: { i } });
    expect(b.frames('client-typing')).toHaveLength(10);
    expect(a.frames('pusher:error').map((f) => f.data.code)).toEqual([4301]);
    g.advance(1_000);
    g.send(a, { event: 'client-typing', channel: 'private-chat', data: { i: 11 } });
    expect(b.frames('client-typing')).toHaveLength(11);
    expect(a.closedWith).toBeUndefined();
    expect(g.sink.named('client_event')).toHaveLength(11);
  });

  it('caches server events of cache channels even with no subscriber, never client events', async () => {
    const g = given();
    stop = () => g.server.stop();
    await g.publish('private-cache-prices', 'Price', '1');
    const [a, b] = [g.connect(), g.connect()];
    g.subscribe(a, 'private-cache-prices');
    expect(a.frames('Price').map((f) => f.data)).toEqual([1]);
    g.send(a, { event: 'client-price', channel: 'private-cache-prices', data: '2' });
    g.subscribe(b, 'private-cache-prices');
    expect(b.frames('Price').map((f) => f.data)).toEqual([1]);
    expect(b.frames('client-price')).toEqual([]);
  });

  it('drops a consumer whose backlog is over the limit: pusher:error, close 4100, out of its channels', async () => {
    const g = given();
    stop = () => g.server.stop();
    const [slow, fine] = [g.connect(), g.connect()];
    g.subscribe(slow, 'orders');
    g.subscribe(fine, 'orders');
    slow.bufferedBytes = 5_000;
    await g.publish('orders', 'E', '{}');
    expect(slow.closedWith?.code).toBe(4100);
    expect(slow.frames('pusher:error').map((f) => f.data.code)).toEqual([4100]);
    expect(fine.frames('E')).toHaveLength(1);
    expect(g.server.counters.dropped.SlowConsumer).toBe(1);
    await g.publish('orders', 'F', '{}');
    expect(slow.frames('F')).toEqual([]);
    expect(fine.frames('F')).toHaveLength(1);
    expect(g.server.state.byId('1')?.channels.find('orders')?.subscriptionCount).toBe(1);
  });

  it('never throws whatever bytes arrive, and never reports a server error for them', () => {
    const g = given();
    stop = () => g.server.stop();
    const conn = g.connect();
    const junk: unknown[] = [
      null, 1, 'x', [], {}, { event: null }, { event: 'pusher:subscribe' }, { event: 'pusher:subscribe', data: 'x' },
      { event: 'pusher:subscribe', data: { channel: 5 } }, { event: 'pusher:subscribe', data: { channel: 'presence-x', auth: 1 } },
      { event: 'pusher:subscribe', data: { channel: 'presence-x', auth: 'a:b', channel_data: '{' } },
      { event: 'pusher:unsubscribe', data: {} }, { event: 'pusher:signin', data: { auth: 'x' } },
      { event: 'pusher:signin', data: { auth: `${g.app.key}:00`, user_data: '[]' } }, { event: 'client-', data: {} },
      { event: '__proto__' }, { event: 'toString' }, { event: 'pusher:ping', data: '{{' }, { event: 'x'.repeat(300) },
    ];
    for (const j of junk) expect(() => g.send(conn, j)).not.toThrow();
    for (const raw of ['\u0000', '{"event":"pusher:ping"', '\uD800', '']) {
      expect(() => g.server.message(conn, Buffer.from(raw), false)).not.toThrow();
    }
    expect(g.errors).toEqual([]);
  });
});
