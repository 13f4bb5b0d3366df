import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveFeed, type CatchUpPage, type ConnectionState, type FeedEvent, type PusherChannelLike, type PusherLike } from '../../web/src/realtime/index.js';

type Handler = (data: any) => void;

/**
 * A stand-in for pusher-js with the surface LiveFeed uses, so the rules the real-server test
 * cannot force (page boundaries, interleavings, timers) are checked exactly. The real client
 * against the real server is test/web/live-feed.int.test.ts.
 */
class FakeChannel implements PusherChannelLike {
  subscribed = false;
  readonly handlers = new Map<string, Set<Handler>>();
  bind(event: string, callback: Handler) {
    (this.handlers.get(event) ?? this.handlers.set(event, new Set()).get(event))?.add(callback);
  }
  unbind(event?: string, callback?: Handler) {
    if (event && callback) this.handlers.get(event)?.delete(callback);
  }
  emit(event: string, data: unknown) {
    for (const h of this.handlers.get(event) ?? []) h(data);
  }
}

class FakePusher implements PusherLike {
  readonly channels = new Map<string, FakeChannel>();
  readonly unsubscribed: string[] = [];
  private readonly stateHandlers = new Set<(c: { previous: string; current: string }) => void>();
  connection = {
    state: 'connecting',
    bind: (_event: string, cb: (c: { previous: string; current: string }) => void) => this.stateHandlers.add(cb),
    unbind: (_event?: string, cb?: (c: { previous: string; current: string }) => void) => cb && this.stateHandlers.delete(cb),
  };
  subscribe(name: string) {
    return this.channels.get(name) ?? this.channels.set(name, new FakeChannel()).get(name)!;
  }
  unsubscribe(name: string) {
    this.unsubscribed.push(name);
  }
  channel(name: string) {
    return this.channels.get(name);
  }
  setState(current: string) {
    const previous = this.connection.state;
    this.connection.state = current;
    for (const h of this.stateHandlers) h({ previous, current });
  }
}

const ev = (position: string, name = 'OrderStatusUpdated'): FeedEvent => ({ name, position, payload: { position } });

describe('LiveFeed rules', () => {
  let pusher: FakePusher;
  let got: Array<{ position: string; origin: string }>;
  let errors: unknown[];
  let states: ConnectionState[];
  let reads: Array<string | undefined>;

  beforeEach(() => {
    vi.useFakeTimers();
    pusher = new FakePusher();
    got = [];
    errors = [];
    states = [];
    reads = [];
  });
  afterEach(() => vi.useRealTimers());

  function feed(pages: (after?: string) => CatchUpPage | Promise<CatchUpPage>, options: { after?: string; settleMs?: number } = {}) {
    return new LiveFeed(pusher, {
      channel: 'private-store.1.orders',
      events: ['OrderCreated', 'OrderStatusUpdated'],
      catchUp: async (after) => {
        reads.push(after);
        return pages(after);
      },
      onEvent: (e, origin) => got.push({ position: e.position, origin }),
      onError: (e) => errors.push(e),
      onState: (s) => states.push(s),
      pollIntervalMs: 1000,
      settleMs: options.settleMs ?? 0,
      ...(options.after ? { after: options.after } : {}),
    });
  }
  const flush = () => vi.advanceTimersByTimeAsync(0);
  /** Connected and subscribed, with the read that follows the subscription done. */
  async function subscribed() {
    pusher.setState('connected');
    const channel = pusher.channel('private-store.1.orders')!;
    channel.subscribed = true;
    channel.emit('pusher:subscription_succeeded', {});
    await flush();
    return channel;
  }

  it('reads page after page until the log has no more, in order, and only the names it listens to', async () => {
    const log = [ev('5.1', 'OrderCreated'), ev('5.2', 'ProductUpdated'), ev('5.3'), ev('9.1'), ev('10.1')];
    const f = feed((after = '0.0') => {
      const i = log.findIndex((e) => e.position === after) + 1;
      const events = log.slice(i, i + 2);
      return { events, checkpoint: events.at(-1)?.position ?? after, hasMore: events.length === 2 };
    });
    f.start();
    await flush();
    expect(got.map((g) => g.position)).toEqual(['5.1', '5.3', '9.1', '10.1']);
    expect(reads).toEqual(['0.0', '5.2', '9.1']);
    expect(f.position).toBe('10.1');
  });

  it('delivers an event seen live and then read back once, and drops a live event at or before the cursor', async () => {
    let log: FeedEvent[] = [];
    const f = feed(() => ({ events: log, checkpoint: log.at(-1)?.position ?? '7.3' }), { after: '7.3' });
    f.start();
    const channel = await subscribed();
    channel.emit('OrderStatusUpdated', { position: '7.3' });
    channel.emit('OrderStatusUpdated', { position: '8.1' });
    channel.emit('OrderStatusUpdated', { position: '8.1' });
    log = [ev('8.1'), ev('8.2')];
    await f.refresh();
    expect(got).toEqual([
      { position: '8.1', origin: 'live' },
      { position: '8.2', origin: 'catch-up' },
    ]);
    expect(f.stats).toMatchObject({ live: 1, caughtUp: 1, duplicates: 3 });
    expect(f.position).toBe('8.2');
  });

  it('after a reconnect, holds live events back until the missed ones are read, so delivery stays in log order', async () => {
    let log = [ev('1.1')];
    const f = feed(() => ({ events: log, checkpoint: log.at(-1)?.position ?? '0.0' }));
    f.start();
    const channel = await subscribed();
    expect(got).toEqual([{ position: '1.1', origin: 'catch-up' }]);

    pusher.setState('connecting');
    log = [ev('1.1'), ev('1.2'), ev('1.3')];
    pusher.setState('connected');
    channel.emit('OrderStatusUpdated', { position: '1.5' });
    channel.emit('OrderStatusUpdated', { position: '1.4' });
    await flush();
    expect(got).toHaveLength(1);
    log = [ev('1.1'), ev('1.2'), ev('1.3'), ev('1.4')];
    channel.emit('pusher:subscription_succeeded', {});
    await flush();
    expect(got).toEqual([
      { position: '1.1', origin: 'catch-up' },
      { position: '1.2', origin: 'catch-up' },
      { position: '1.3', origin: 'catch-up' },
      { position: '1.4', origin: 'catch-up' },
      { position: '1.5', origin: 'live' },
    ]);
    // The gap is closed: the next live event goes straight through.
    channel.emit('OrderStatusUpdated', { position: '1.6' });
    expect(got.at(-1)).toEqual({ position: '1.6', origin: 'live' });
    expect(f.position).toBe('1.4');
  });

  it('keeps holding when the socket is back but the channel is not yet subscribed again', async () => {
    let log = [ev('2.1')];
    let release: () => void = () => {};
    let slow = false;
    const f = feed(async () => {
      if (slow) await new Promise<void>((r) => (release = r));
      return { events: log, checkpoint: log.at(-1)?.position ?? '0.0' };
    });
    f.start();
    const channel = await subscribed();
    slow = true;
    void f.refresh();
    pusher.setState('connecting');
    pusher.setState('connected');
    release();
    await flush();
    channel.emit('OrderStatusUpdated', { position: '2.3' });
    expect(got.map((g) => g.position)).toEqual(['2.1']);
    slow = false;
    log = [ev('2.1'), ev('2.2')];
    channel.emit('pusher:subscription_succeeded', {});
    await flush();
    expect(got.map((g) => g.position)).toEqual(['2.1', '2.2', '2.3']);
  });

  it('delivers held live events anyway when the read after the reconnect fails', async () => {
    let fail = false;
    const f = feed(() => {
      if (fail) throw new Error('HTTP 503');
      return { events: [], checkpoint: '0.0' };
    });
    f.start();
    const channel = await subscribed();
    pusher.setState('connecting');
    pusher.setState('connected');
    channel.emit('OrderCreated', { position: '4.2' });
    fail = true;
    channel.emit('pusher:subscription_succeeded', {});
    await flush();
    expect(got).toEqual([{ position: '4.2', origin: 'live' }]);
    expect(errors.map(String)).toEqual(['Error: HTTP 503']);
    f.stop();
  });

  it('never runs two catch-up reads at once, and reads again when asked meanwhile', async () => {
    let release: () => void = () => {};
    let running = 0;
    let most = 0;
    const f = feed(async () => {
      running++;
      most = Math.max(most, running);
      await new Promise<void>((r) => (release = r));
      running--;
      return { events: [], checkpoint: '0.0' };
    });
    f.start();
    void f.refresh();
    void f.refresh();
    await flush();
    release();
    await flush();
    release();
    await flush();
    expect(reads).toHaveLength(2);
    expect(most).toBe(1);
  });

  it('reports connecting, connected, reconnecting and offline, and polls only while not connected', async () => {
    const f = feed(() => ({ events: [], checkpoint: '0.0' }));
    f.start();
    await flush();
    expect(f.state).toBe('connecting');
    pusher.setState('connected');
    const afterConnect = reads.length;
    await vi.advanceTimersByTimeAsync(5000);
    expect(reads.length).toBe(afterConnect);
    pusher.setState('connecting');
    pusher.setState('unavailable');
    await vi.advanceTimersByTimeAsync(3000);
    expect(reads.length - afterConnect).toBe(3);
    pusher.setState('connected');
    expect(states).toEqual(['connected', 'reconnecting', 'offline', 'connected']);
  });

  it('catches up shortly after live events when asked to settle', async () => {
    const f = feed(() => ({ events: [ev('3.1')], checkpoint: '3.1' }), { settleMs: 500 });
    f.start();
    await subscribed();
    const before = reads.length;
    pusher.channel('private-store.1.orders')!.emit('OrderStatusUpdated', { position: '3.2' });
    await vi.advanceTimersByTimeAsync(499);
    expect(reads.length).toBe(before);
    await vi.advanceTimersByTimeAsync(1);
    expect(reads.length).toBe(before + 1);
    expect(f.position).toBe('3.1');
  });

  it('reports a malformed event and a failing read without throwing, and keeps going', async () => {
    let fail = true;
    const f = feed(() => {
      if (fail) throw new Error('HTTP 503');
      return { events: [ev('2.1')], checkpoint: '2.1' };
    });
    f.start();
    await subscribed();
    pusher.channel('private-store.1.orders')!.emit('OrderCreated', { order_id: 1 });
    fail = false;
    await f.refresh();
    expect(new Set(errors.map(String))).toEqual(new Set(['Error: HTTP 503', 'Error: OrderCreated without a valid position: undefined']));
    expect(got).toEqual([{ position: '2.1', origin: 'catch-up' }]);
  });

  it('stops listening, polling and its own subscription on stop()', async () => {
    const f = feed(() => ({ events: [], checkpoint: '0.0' }));
    f.start();
    await flush();
    f.stop();
    const channel = pusher.channel('private-store.1.orders')!;
    channel.emit('OrderCreated', { position: '1.1' });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(got).toEqual([]);
    expect(reads).toHaveLength(1);
    expect(pusher.unsubscribed).toEqual(['private-store.1.orders']);
    expect([...channel.handlers.values()].every((s) => s.size === 0)).toBe(true);
  });
});
