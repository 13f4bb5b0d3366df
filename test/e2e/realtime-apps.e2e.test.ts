import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PusherSdk from 'pusher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PusherApp } from '../../src/realtime/index.js';
import { login, placeOrder } from '../support/http-app.js';
import { testApp } from '../support/realtime-apps.js';
import { RawClient, echoClient, pusherClient, whenConnected } from '../support/realtime-clients.js';
import { startRealtimeApp, subscription, type RealtimeApp } from '../support/storeflow-realtime.js';
import { waitFor } from '../support/waiting.js';
import { startPusherWebhookReceiver, type PusherWebhookReceiver } from '../realtime/webhooks/pusher-webhook-receiver.js';

/**
 * StoreFlow as a Pusher-compatible server for other backends: the `pusher` SDK (what
 * Laravel's pusher broadcaster is built on) publishing to /apps/{id}/events on the HTTP
 * port, with StoreFlow's own credentials or an app from STOREFLOW_APPS_FILE, to Echo
 * clients; plus the operational surface (GET /up, metrics, webhooks).
 */
describe('StoreFlow as a Pusher server for other apps', () => {
  let h: RealtimeApp;
  let dir: string;
  let receiver: PusherWebhookReceiver;
  const shop: PusherApp = testApp({ id: 'shop-1', key: 'shop-key', secret: 'shop-secret-0123456789abcdef' });
  const sdk = (app: Pick<PusherApp, 'id' | 'key' | 'secret'>) =>
    new PusherSdk({ appId: app.id, key: app.key, secret: app.secret, host: '127.0.0.1', port: String(h.port), useTLS: false, timeout: 5_000 });

  beforeAll(async () => {
    receiver = await startPusherWebhookReceiver(shop);
    dir = await mkdtemp(join(tmpdir(), 'storeflow-apps-'));
    const file = join(dir, 'apps.json');
    await writeFile(file, JSON.stringify({
      apps: [{ id: shop.id, key: shop.key, secret: shop.secret, client_events: true, webhook: { url: receiver.url, events: ['channel_occupied'] } }],
    }));
    h = await startRealtimeApp({ env: { STOREFLOW_APPS_FILE: file } });
  });
  afterAll(async () => {
    await h?.close();
    await receiver?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('relays what the pusher SDK triggers with StoreFlow\'s credentials to an Echo client', async () => {
    const echo = h.echo(null);
    const got: unknown[] = [];
    echo.channel('announcements').listen('.StoreOpened', (d: unknown) => got.push(d));
    expect(await subscription(echo.connector.pusher, 'announcements')).toEqual({ ok: true });
    await sdk(h.pusherApp).trigger('announcements', 'StoreOpened', { store: 'Riverside' });
    await waitFor('the Echo listener', () => got.length === 1);
    expect(got).toEqual([{ store: 'Riverside' }]);
  });

  it('serves an app from STOREFLOW_APPS_FILE: a Laravel-style backend broadcasts to its own Echo clients, toOthers included', async () => {
    const first = echoClient(pusherClient(h.port, shop));
    const second = echoClient(pusherClient(h.port, shop));
    const firstGot: unknown[] = [];
    const secondGot: unknown[] = [];
    first.private('orders.7').listen('.OrderShipped', (d: unknown) => firstGot.push(d));
    second.private('orders.7').listen('.OrderShipped', (d: unknown) => secondGot.push(d));
    expect(await subscription(first.connector.pusher, 'private-orders.7')).toEqual({ ok: true });
    expect(await subscription(second.connector.pusher, 'private-orders.7')).toEqual({ ok: true });

    const client = sdk(shop);
    await client.trigger('private-orders.7', 'OrderShipped', { id: 7 }, { socket_id: await whenConnected(first.connector.pusher) });
    await client.trigger('private-orders.7', 'OrderShipped', { id: 8 });
    await waitFor('both events at the second client', () => secondGot.length === 2);
    await waitFor('the second event at the first client', () => firstGot.length === 1);
    expect(secondGot).toEqual([{ id: 7 }, { id: 8 }]);
    expect(firstGot).toEqual([{ id: 8 }]);
    await waitFor('the signed channel_occupied webhook', () => receiver.acceptedEvents().some((e) => e.channel === 'private-orders.7'));
    expect(receiver.calls.every((c) => c.valid)).toBe(true);
    first.disconnect();
    second.disconnect();
  });

  it("keeps apps apart: StoreFlow's broadcasts never reach another app's clients, nor its credentials sign for StoreFlow", async () => {
    const staff = await login(h.http, 'staff');
    const shopClient = pusherClient(h.port, shop);
    const leaked: unknown[] = [];
    shopClient.subscribe('private-store.1.orders').bind('OrderCreated', (d: unknown) => leaked.push(d));
    expect(await subscription(shopClient, 'private-store.1.orders')).toEqual({ ok: true });
    const own = h.pusher({ session: staff });
    const seen: unknown[] = [];
    own.subscribe('private-store.1.orders').bind('OrderCreated', (d: unknown) => seen.push(d));
    expect(await subscription(own, 'private-store.1.orders')).toEqual({ ok: true });
    await placeOrder(h.http, staff);
    await waitFor('the StoreFlow screen', () => seen.length === 1);
    expect(leaked).toEqual([]);
    await expect(sdk({ ...shop, id: h.pusherApp.id }).trigger('private-store.1.orders', 'OrderCreated', {})).rejects.toMatchObject({ status: 401 });
    shopClient.disconnect();
  });

  it('answers GET /up and exports the real-time counters as Prometheus metrics', async () => {
    const up = await h.http.inject({ method: 'GET', url: '/up' });
    expect(up.statusCode).toBe(200);
    expect(up.json()).toEqual({ status: 'ok' });
    const client = h.pusher(null);
    await whenConnected(client);
    const metrics = (await h.http.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^storeflow_realtime_connections [1-9]\d*$/m);
    expect(metrics).toMatch(/^storeflow_realtime_connections_opened_total [1-9]\d*$/m);
    expect(metrics).toMatch(/^storeflow_realtime_messages_received_total [1-9]\d*$/m);
    expect(metrics).toMatch(/^storeflow_realtime_messages_sent_total [1-9]\d*$/m);
    expect(metrics).toMatch(/^# TYPE storeflow_realtime_connections_dropped_total counter$/m);
    expect(metrics).toMatch(/^storeflow_realtime_webhooks_total\{outcome="delivered"\} \d+$/m);
    client.disconnect();
  });
});

describe('stopping StoreFlow with the realtime role', () => {
  it('closes every WebSocket with 4200 (reconnect now) and stops answering GET /up', async () => {
    const h = await startRealtimeApp();
    const { client } = await RawClient.established(`ws://127.0.0.1:${h.port}/app/${h.pusherApp.key}?protocol=7&client=js&version=8.6.0`);
    client.subscribe('announcements');
    await client.next('pusher_internal:subscription_succeeded');
    const realtime = h.flow.realtime!;
    await realtime.closeSockets();
    expect(await client.closed).toMatchObject({ code: 4200 });
    expect(client.all('pusher:error').at(-1)?.data).toMatchObject({ code: 4200 });
    const up = await h.http.inject({ method: 'GET', url: '/up' });
    expect(up.statusCode).toBe(503);
    expect(up.json()).toMatchObject({ error: { code: 'REALTIME_UNAVAILABLE' } });
    await h.close();
  });
});
