import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp, testSign } from '../support/realtime-apps.js';
import { pusherClient, RawClient, whenConnected } from '../support/realtime-clients.js';
import { startRealtime, type RealtimeHarness } from '../support/realtime-server.js';

/**
 * Heartbeats with short timings: activity timeout 1 s, pong within 400 ms, subscribe within
 * 800 ms, swept every 50 ms.
 */
describe('activity, heartbeats and reaping', () => {
  const app = testApp({ activityTimeoutSeconds: 1 });
  let h: RealtimeHarness;
  let witness: RawClient;

  const subscribed = async () => {
    const { client, socketId } = await RawClient.established(h.url(app.key));
    client.subscribe('private-beat', testSign.channel(app, socketId, 'private-beat'));
    await client.next('pusher_internal:subscription_succeeded');
    return client;
  };
  const stillServing = async () => {
    const marker = String(Math.random());
    witness.send({ event: 'pusher:ping', data: {} });
    await witness.next('pusher:pong');
    await h.node.control.publish({ appId: app.id, channels: ['private-beat'], event: 'Marker', data: marker });
    await witness.next((f) => f.event === 'Marker' && f.data === Number(marker));
  };

  beforeAll(async () => {
    h = await startRealtime({ apps: [app], limits: { sweepIntervalMs: 50, pongTimeoutMs: 400, subscribeWithinMs: 800 } });
    witness = await subscribed();
    // The witness answers every pusher:ping, as real clients do.
    witness.ws.on('message', (m) => {
      if (m.toString().includes('"pusher:ping"')) witness.send({ event: 'pusher:pong', data: {} });
    });
  });
  afterAll(async () => {
    witness.close();
    await h.stop();
    expect(h.errors).toEqual([]);
  });

  it('announces the app activity timeout in connection_established', async () => {
    const client = await RawClient.connect(h.url(app.key));
    expect((await client.next('pusher:connection_established')).data.activity_timeout).toBe(1);
    client.close();
  });

  it('pings an idle connection and closes it with 4201 when no pong comes', async () => {
    const c = await subscribed();
    await c.next('pusher:ping', 3_000);
    expect((await c.next('pusher:error', 3_000)).data.code).toBe(4201);
    expect((await c.closed).code).toBe(4201);
    expect(h.node.counters.dropped.PongNotReceived).toBeGreaterThanOrEqual(1);
    await stillServing();
  });

  it('keeps a connection that answers pusher:ping with pusher:pong', async () => {
    const c = await subscribed();
    for (let i = 0; i < 2; i++) {
      await c.next('pusher:ping', 3_000);
      c.send({ event: 'pusher:pong', data: {} });
    }
    expect(c.isOpen).toBe(true);
    c.close();
  });

  it('counts RFC 6455 ping frames as activity', async () => {
    const c = await subscribed();
    for (let i = 0; i < 12; i++) {
      c.ws.ping();
      await sleep(200);
    }
    expect(c.all('pusher:ping')).toEqual([]);
    expect(c.isOpen).toBe(true);
    c.close();
  });

  it('reaps a connection that never subscribes with 4202', async () => {
    const c = await RawClient.connect(h.url(app.key));
    await c.next('pusher:connection_established');
    expect((await c.next('pusher:error', 3_000)).data.code).toBe(4202);
    expect((await c.closed).code).toBe(4202);
    await stillServing();
  });

  it('keeps an idle pusher-js client connected (it pings and answers pings)', async () => {
    const pusher = pusherClient(h.port, app);
    const socketId = await whenConnected(pusher);
    pusher.subscribe('idle-but-alive');
    await sleep(3_000);
    expect(pusher.connection.state).toBe('connected');
    expect(pusher.connection.socket_id).toBe(socketId);
    pusher.disconnect();
  });
});
