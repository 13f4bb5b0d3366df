import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { RealtimeNode } from '../../src/realtime/index.js';
import { testApp } from '../support/realtime-apps.js';
import { nextEvent, pusherClient, RawClient } from '../support/realtime-clients.js';
import { startRealtime, type RealtimeHarness } from '../support/realtime-server.js';
import { waitFor } from '../support/waiting.js';

describe('opening a connection', () => {
  const app = testApp();
  const disabled = testApp({ id: '2', key: 'disabled-key', enabled: false });
  const guarded = testApp({ id: '3', key: 'guarded-key', allowedOrigins: ['https://shop.example', '*.partner.example'] });
  const small = testApp({ id: '4', key: 'small-key', maxConnections: 1 });
  let h: RealtimeHarness;

  /** The refusal a raw socket gets: pusher:error first, then the close with the same code. */
  const refusal = async (url: string, origin?: string) => {
    const c = await RawClient.connect(url, origin === undefined ? {} : { origin });
    const error = await c.next('pusher:error');
    const closed = await c.closed;
    expect(closed.code).toBe(error.data.code);
    return { code: closed.code, message: error.data.message as string };
  };

  beforeAll(async () => {
    h = await startRealtime({ apps: [app, disabled, guarded, small] });
  });
  afterAll(async () => {
    await h.stop();
    expect(h.errors).toEqual([]);
  });

  it('refuses an unknown key with 4001', async () => {
    expect((await refusal(h.url('nope'))).code).toBe(4001);
  });

  it('refuses a missing protocol with 4008 and another version with 4007', async () => {
    expect((await refusal(h.url(app.key, 'client=js'))).code).toBe(4008);
    expect((await refusal(h.url(app.key, 'protocol=6'))).code).toBe(4007);
  });

  it('refuses other paths with 4005', async () => {
    for (const path of ['/apps/x?protocol=7', '/app/?protocol=7', '/app/a/b?protocol=7', '/socket?protocol=7']) {
      expect((await refusal(`ws://127.0.0.1:${h.port}${path}`)).code).toBe(4005);
    }
  });

  it('refuses a disabled app with 4003', async () => {
    expect((await refusal(h.url(disabled.key))).code).toBe(4003);
  });

  it('checks the Origin against the app (exact origin or wildcard host)', async () => {
    expect((await refusal(h.url(guarded.key), 'https://evil.example')).code).toBe(4009);
    expect((await refusal(h.url(guarded.key))).code).toBe(4009);
    for (const origin of ['https://shop.example', 'https://eu.partner.example']) {
      const ok = await RawClient.connect(h.url(guarded.key), { origin });
      await ok.next('pusher:connection_established');
      ok.close();
    }
  });

  it("refuses connections over the app's quota with 4004", async () => {
    const first = await RawClient.established(h.url(small.key));
    expect((await refusal(h.url(small.key))).code).toBe(4004);
    first.client.close();
    await waitFor('quota freed', () => h.node.server.state.byId(small.id)?.sessions.size === 0);
    (await RawClient.established(h.url(small.key))).client.close();
    expect(h.node.counters.dropped.OverQuota).toBe(1);
  });

  it('counts connections and messages', async () => {
    await waitFor('earlier connections gone', () => h.node.counters.connections === 0);
    const before = h.node.counters.snapshot();
    const { client } = await RawClient.established(h.url(app.key));
    client.send({ event: 'pusher:ping', data: {} });
    await client.next('pusher:pong');
    const during = h.node.counters.snapshot();
    expect(during.connections).toBe(before.connections + 1);
    expect(during.messagesIn).toBe(before.messagesIn + 1);
    expect(during.messagesOut).toBe(before.messagesOut + 2);
    client.close();
    await waitFor('connection gone', () => h.node.counters.connections === before.connections);
  });
});

describe('node capacity', () => {
  it('refuses connections beyond the node limit with 4100 (clients back off and return)', async () => {
    const app = testApp();
    const h = await startRealtime({ apps: [app], limits: { maxConnections: 1 } });
    try {
      const first = await RawClient.established(h.url(app.key));
      const c = await RawClient.connect(h.url(app.key));
      expect((await c.next('pusher:error')).data.code).toBe(4100);
      expect((await c.closed).code).toBe(4100);
      first.client.close();
    } finally {
      await h.stop();
    }
  });
});

describe('attached to an existing http.Server', () => {
  const app = testApp();
  let http: Server;
  let other: WebSocketServer;
  let node: RealtimeNode;
  let port: number;

  beforeAll(async () => {
    http = createServer((_req, res) => res.end('plain http'));
    other = new WebSocketServer({ noServer: true });
    // Another upgrade listener owns /other: the realtime node must leave it alone.
    http.on('upgrade', (req, socket, head) => {
      if (req.url === '/other') other.handleUpgrade(req, socket, head, (ws) => ws.send('other'));
    });
    node = new RealtimeNode({ apps: [app], transport: { pathPrefix: '/realtime' } });
    node.start();
    node.attach(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    port = (http.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await node.stop();
    other.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });

  it('serves HTTP, its own WebSocket path and leaves other upgrade paths to their owner', async () => {
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('plain http');

    const pusher = pusherClient(port, app, {}, { wsPath: '/realtime' });
    const subscribed = nextEvent(pusher, 'attached', 'pusher:subscription_succeeded');
    await subscribed;
    pusher.disconnect();

    const o = await RawClient.connect(`ws://127.0.0.1:${port}/other`).catch((e: unknown) => e);
    expect(o).toBeInstanceOf(RawClient);
    (o as RawClient).close();
  });
});
