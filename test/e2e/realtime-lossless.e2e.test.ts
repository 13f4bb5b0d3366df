import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareCheckpoints, parseCheckpoint } from '../../src/events/index.js';
import { login, moveTo, placeOrder, type Session } from '../support/http-app.js';
import type { PusherClient } from '../support/realtime-clients.js';
import { whenConnected } from '../support/realtime-clients.js';
import { startRealtimeApp, subscription, type RealtimeApp } from '../support/storeflow-realtime.js';
import { waitFor } from '../support/waiting.js';
import type { OrderView } from '../../src/store/index.js';

interface Update {
  name: string;
  position: string;
  payload: Record<string, unknown>;
}

/**
 * What a screen does to lose nothing (DESIGN.md §1, §3): keep the position of the last
 * update seen; after a reconnect, subscribe first, then read `…/events?after=<position>`
 * over HTTP; drop anything whose position was already seen, from either path.
 */
class LosslessFeed {
  readonly updates: Update[] = [];
  private readonly seen = new Set<string>();

  apply(u: Update): void {
    if (this.seen.has(u.position)) return;
    this.seen.add(u.position);
    this.updates.push(u);
  }

  get last(): string {
    return this.updates.at(-1)?.position ?? '0.0';
  }
}

const NAMES = ['OrderCreated', 'OrderStatusUpdated'];
const byPosition = (a: Update, b: Update) => compareCheckpoints(parseCheckpoint(a.position), parseCheckpoint(b.position));

describe('lossless delivery: broadcasts plus catch-up from the last position', () => {
  let h: RealtimeApp;
  let staff: Session;

  beforeAll(async () => {
    h = await startRealtimeApp();
    staff = await login(h.http, 'staff');
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Every event so far has been through the broadcaster (so a disconnected screen missed it). */
  const broadcasterCaughtUp = () =>
    waitFor('the broadcaster to catch up', async () => (await h.flow.pipelineAdmin.status()).find((s) => s.name === 'broadcaster')?.lag_events === 0);

  const listen = (client: PusherClient, channel: string, names: string[], feed: LosslessFeed, live: Update[]) => {
    const ch = client.channel(channel) ?? client.subscribe(channel);
    for (const name of names) {
      ch.bind(name, (payload: Record<string, unknown>) => {
        const u = { name, position: String(payload.position), payload };
        live.push(u);
        feed.apply(u);
      });
    }
  };

  it('a staff screen offline for 5 transitions ends with all of them and the next one, in order, none twice', async () => {
    const feed = new LosslessFeed();
    const live: Update[] = [];
    const client = h.pusher({ session: staff });
    listen(client, 'private-store.1.orders', NAMES, feed, live);
    expect(await subscription(client, 'private-store.1.orders')).toEqual({ ok: true });

    let a = await placeOrder(h.http, staff);
    let b = await placeOrder(h.http, staff);
    await waitFor('both orders seen live', () => live.filter((u) => u.name === 'OrderCreated').length === 2);

    client.disconnect();
    await waitFor('disconnected', () => client.connection.state === 'disconnected');
    const missed: OrderView[] = [];
    for (const [which, status] of [['a', 'accepted'], ['b', 'accepted'], ['a', 'in_progress'], ['b', 'in_progress'], ['a', 'ready']] as const) {
      const moved = await moveTo(h.http, staff, which === 'a' ? a : b, status);
      if (which === 'a') a = moved;
      else b = moved;
      missed.push(moved);
    }
    await broadcasterCaughtUp();

    client.connect();
    await whenConnected(client);
    expect(await subscription(client, 'private-store.1.orders')).toEqual({ ok: true });
    // One more while the screen catches up: it may arrive live, in the catch-up, or both.
    const racing = moveTo(h.http, staff, b, 'ready');
    let after = feed.last;
    for (;;) {
      const res = await h.http.inject({ method: 'GET', url: `/api/stores/1/events?after=${after}&limit=2`, headers: staff.headers });
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json() as { events: Array<{ name: string; checkpoint: string; payload: Record<string, unknown> }>; next: string; has_more: boolean };
      for (const e of page.events) {
        if (NAMES.includes(e.name)) feed.apply({ name: e.name, position: e.checkpoint, payload: { ...e.payload, position: e.checkpoint } });
      }
      after = page.next;
      if (!page.has_more) break;
    }
    const last = await racing;
    await waitFor('the racing transition', () => feed.updates.some((u) => u.payload.order_id === last.id && u.payload.version === last.version));

    const transitions = feed.updates.filter((u) => u.name === 'OrderStatusUpdated');
    expect(transitions.map((u) => [u.payload.order_id, u.payload.new_status, u.payload.version])).toEqual(
      [...missed, last].map((o) => [o.id, o.status, o.version]),
    );
    expect([...feed.updates].sort(byPosition)).toEqual(feed.updates);
    expect(new Set(feed.updates.map((u) => u.position)).size).toBe(feed.updates.length);
    // Broadcasts missed while offline were never delivered to this screen.
    expect(live.filter((u) => missed.some((o) => o.id === u.payload.order_id && o.version === u.payload.version))).toEqual([]);
  });

  it('a customer tracking page catches up through the tracking events endpoint', async () => {
    let order = await placeOrder(h.http, staff);
    const feed = new LosslessFeed();
    const live: Update[] = [];
    const channel = `customer.${order.public_id}.order`;
    const client = h.pusher(null);
    listen(client, channel, ['OrderStatusUpdated'], feed, live);
    expect(await subscription(client, channel)).toEqual({ ok: true });
    order = await moveTo(h.http, staff, order, 'accepted');
    await waitFor('accepted, live', () => live.length === 1);

    client.disconnect();
    await waitFor('disconnected', () => client.connection.state === 'disconnected');
    order = await moveTo(h.http, staff, order, 'in_progress');
    order = await moveTo(h.http, staff, order, 'ready');
    await broadcasterCaughtUp();
    client.connect();
    expect(await subscription(client, channel)).toEqual({ ok: true });
    const res = await h.http.inject({ method: 'GET', url: `/api/track/${order.public_id}/events?after=${feed.last}` });
    for (const e of res.json().events as Array<{ name: string; checkpoint: string; payload: Record<string, unknown> }>) {
      feed.apply({ name: e.name, position: e.checkpoint, payload: e.payload });
    }
    order = await moveTo(h.http, staff, order, 'completed');
    await waitFor('completed, live', () => feed.updates.length === 4);
    expect(feed.updates.map((u) => u.payload.new_status)).toEqual(['accepted', 'in_progress', 'ready', 'completed']);
    expect(feed.updates.map((u) => u.payload.version)).toEqual([2, 3, 4, 5]);
    expect(live.map((u) => u.payload.new_status)).toEqual(['accepted', 'completed']);
  });
});
