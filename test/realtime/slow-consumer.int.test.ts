import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../support/realtime-apps.js';
import { RawClient } from '../support/realtime-clients.js';
import { startRealtime, type RealtimeHarness } from '../support/realtime-server.js';
import { waitFor } from '../support/waiting.js';

describe('a consumer that stops reading', () => {
  const app = testApp();
  let h: RealtimeHarness;

  beforeAll(async () => {
    h = await startRealtime({ apps: [app], limits: { maxBufferedBytes: 256 * 1024 }, transport: { closeGraceMs: 20_000 } });
  });
  afterAll(async () => {
    await h.stop();
    expect(h.errors).toEqual([]);
  });

  it('is disconnected with 4100 once it falls too far behind, while a reading consumer gets everything', async () => {
    const slow = (await RawClient.established(h.url(app.key))).client;
    const healthy = (await RawClient.established(h.url(app.key))).client;
    for (const c of [slow, healthy]) {
      c.subscribe('firehose');
      await c.next('pusher_internal:subscription_succeeded');
    }
    // Stop reading: the kernel buffers fill, then the server's backlog grows.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();

    const data = JSON.stringify({ pad: 'x'.repeat(8 * 1024) });
    let published = 0;
    while (!h.node.counters.dropped.SlowConsumer && published < 8_000) {
      await h.node.control.publish({ appId: app.id, channels: ['firehose'], event: 'Tick', data });
      published += 1;
      // Let both sides move: writes of one turn are coalesced and never count as a backlog.
      if (published % 8 === 0) await nextTurn();
    }
    expect(h.node.counters.dropped.SlowConsumer).toBe(1);
    await waitFor('healthy got all', () => healthy.all('Tick').length === published, 20_000);
    expect(healthy.isOpen).toBe(true);

    // Reading again, the slow one drains what was queued, then gets the error and the close.
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect((await slow.next('pusher:error', 20_000)).data.code).toBe(4100);
    expect((await slow.closed).code).toBe(4100);
    expect(slow.all('Tick').length).toBeLessThan(published);
    healthy.close();
  });
});
