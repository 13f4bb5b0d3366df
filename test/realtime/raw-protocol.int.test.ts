import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp, testSign } from '../support/realtime-apps.js';
import { RawClient } from '../support/realtime-clients.js';
import { startRealtime, type RealtimeHarness } from '../support/realtime-server.js';
import { waitFor } from '../support/waiting.js';

/**
 * What real clients never send, over bare sockets. Every case checks the documented error,
 * that the offending connection stays open where the protocol says so, and that another
 * client is still served afterwards.
 */
describe('the server facing clients that misbehave', () => {
  const app = testApp({ maxMessageBytes: 1_024 });
  const quietApp = testApp({ id: '2', key: 'app-key-2', secret: 'app-secret-2', clientEventsEnabled: false });
  let h: RealtimeHarness;
  let witness: RawClient;
  let published = 0;

  /** Publishes to the witness and expects it to arrive: the server still serves others. */
  const stillServing = async () => {
    const n = ++published;
    await h.node.control.publish({ appId: app.id, channels: ['witness'], event: 'Alive', data: String(n) });
    await witness.next((f) => f.event === 'Alive' && f.data === n);
  };
  /** The connection still answers pusher:ping. */
  const stillOpen = async (c: RawClient) => {
    c.send({ event: 'pusher:ping', data: {} });
    await c.next('pusher:pong');
    expect(c.isOpen).toBe(true);
  };
  const connect = async () => (await RawClient.established(h.url(app.key))).client;
  const connectWithId = () => RawClient.established(h.url(app.key));

  beforeAll(async () => {
    h = await startRealtime({ apps: [app, quietApp] });
    witness = await connect();
    witness.subscribe('witness');
    await witness.next('pusher_internal:subscription_succeeded');
  });
  afterAll(async () => {
    witness.close();
    await h.stop();
    expect(h.errors).toEqual([]);
  });

  it('answers malformed JSON with pusher:error 4200 and keeps the connection', async () => {
    const c = await connect();
    for (const junk of ['{not json', '[]', '42', '{"event":17}', '{"data":{}}', '']) {
      c.send(junk);
      expect((await c.next('pusher:error')).data).toMatchObject({ code: 4200 });
    }
    await stillOpen(c);
    await stillServing();
    c.close();
  });

  it('answers unknown events with pusher:error 4200 and keeps the connection', async () => {
    const c = await connect();
    c.send({ event: 'pusher:teleport', data: {} });
    c.send({ event: 'constructor', data: {} });
    const errors = [await c.next('pusher:error'), await c.next('pusher:error')];
    expect(errors.map((e) => e.data.code)).toEqual([4200, 4200]);
    expect(errors[0]?.data.message).toContain('pusher:teleport');
    await stillOpen(c);
    await stillServing();
    c.close();
  });

  it("refuses a frame over the app's maxMessageBytes with 4300 and keeps the connection", async () => {
    const c = await connect();
    c.send({ event: 'pusher:ping', data: { pad: 'x'.repeat(2_000) } });
    const error = await c.next('pusher:error');
    expect(error.data.code).toBe(4300);
    expect(error.data.message).toMatch(/1024 bytes/);
    await stillOpen(c);
    await stillServing();
    c.close();
  });

  it('cuts a frame far beyond the limit at the transport (1009) without buffering it', async () => {
    const c = await connect();
    c.send({ event: 'pusher:ping', data: { pad: 'x'.repeat(64 * 1024) } });
    expect((await c.closed).code).toBe(1009);
    expect(h.node.counters.dropped.PayloadTooLarge).toBe(1);
    await stillServing();
  });

  it('answers binary frames with pusher:error 4200 and keeps the connection', async () => {
    const c = await connect();
    c.send(Buffer.from(JSON.stringify({ event: 'pusher:ping', data: {} })), true);
    const error = await c.next('pusher:error');
    expect(error.data).toMatchObject({ code: 4200, message: expect.stringMatching(/Binary/) });
    await stillOpen(c);
    await stillServing();
    c.close();
  });

  it('refuses bad channel names with pusher:error 4300', async () => {
    const c = await connect();
    for (const name of ['', 'has space', 'émoji', 'a'.repeat(201), 'slash/y', '#server-to-user-', 'private-#x']) {
      c.subscribe(name);
      expect((await c.next('pusher:error')).data.code).toBe(4300);
    }
    c.subscribe('a'.repeat(200));
    expect((await c.next('pusher_internal:subscription_succeeded')).channel).toBe('a'.repeat(200));
    c.subscribe('ok_-=@,.;chars');
    await c.next('pusher_internal:subscription_succeeded');
    expect(c.all('pusher:subscription_error')).toEqual([]);
    await stillOpen(c);
    await stillServing();
    c.close();
  });

  it('refuses bad or missing auth with pusher:subscription_error 401 and keeps the connection', async () => {
    const { client: c, socketId } = await connectWithId();
    c.subscribe('private-a');
    c.subscribe('private-b', `${app.key}:${'0'.repeat(64)}`);
    c.subscribe('private-c', testSign.channel({ ...app, key: 'other-key' }, socketId, 'private-c'));
    c.subscribe('private-d', testSign.channel(app, '1.1', 'private-d'));
    c.subscribe('private-encrypted-e', 'garbage');
    c.subscribe('presence-f', testSign.channel(app, socketId, 'presence-f', '{"user_id":1}'), '{"user_id":2}');
    const errors = await Promise.all(['a', 'b', 'c', 'd', 'encrypted-e'].map((x) => c.next((f) => f.channel === `private-${x}`)));
    errors.push(await c.next((f) => f.channel === 'presence-f'));
    for (const e of errors) {
      expect(e.event).toBe('pusher:subscription_error');
      expect(e.data).toMatchObject({ type: 'AuthError', status: 401 });
    }
    c.subscribe('private-g', testSign.channel(app, socketId, 'private-g'));
    await c.next((f) => f.event === 'pusher_internal:subscription_succeeded' && f.channel === 'private-g');
    await stillOpen(c);
    await stillServing();
    c.close();
  });

  it('refuses presence channel_data that breaks the limits with 400', async () => {
    // quietApp: its 10 KB frame limit leaves room for a user_info just over 1 KB.
    const { client: c, socketId } = await RawClient.established(h.url(quietApp.key));
    const tries = [
      '{"user_info":{}}',
      '{"user_id":""}',
      `{"user_id":"${'u'.repeat(129)}"}`,
      `{"user_id":"u","user_info":{"bio":"${'b'.repeat(1_100)}"}}`,
      'not json',
    ];
    for (const [i, data] of tries.entries()) {
      c.subscribe(`presence-limits-${i}`, testSign.channel(quietApp, socketId, `presence-limits-${i}`, data), data);
      expect((await c.next('pusher:subscription_error')).data).toMatchObject({ status: 400 });
    }
    const ok = `{"user_id":${'9'.repeat(5)},"user_info":{"name":"N"}}`;
    c.subscribe('presence-limits-ok', testSign.channel(quietApp, socketId, 'presence-limits-ok', ok), ok);
    const succeeded = await c.next('pusher_internal:subscription_succeeded');
    expect(succeeded.data).toEqual({ presence: { ids: ['99999'], hash: { '99999': { name: 'N' } }, count: 1 } });
    await stillServing();
    c.close();
  });

  it('rate-limits client events to 10 per second per connection with 4301, connection stays', async () => {
    const { client: sender, socketId } = await connectWithId();
    const { client: receiver, socketId: receiverId } = await connectWithId();
    sender.subscribe('private-chat', testSign.channel(app, socketId, 'private-chat'));
    receiver.subscribe('private-chat', testSign.channel(app, receiverId, 'private-chat'));
    await sender.next('pusher_internal:subscription_succeeded');
    await receiver.next('pusher_internal:subscription_succeeded');
    for (let i = 0; i < 25; i++) sender.send({ event: 'client-typing', channel: 'private-chat', data: { i } });
    expect((await sender.next('pusher:error')).data.code).toBe(4301);
    await stillOpen(sender);
    const relayed = receiver.all('client-typing').length;
    expect(relayed).toBeGreaterThanOrEqual(10);
    // 25 events sent at once fall into at most two one-second windows.
    expect(relayed).toBeLessThanOrEqual(20);
    expect(sender.all('client-typing')).toEqual([]);
    await stillServing();
    sender.close();
    receiver.close();
  });

  it('refuses client events on public channels, unsubscribed channels and apps without them', async () => {
    const { client: c, socketId } = await connectWithId();
    c.subscribe('public-room');
    await c.next('pusher_internal:subscription_succeeded');
    c.send({ event: 'client-x', channel: 'public-room', data: {} });
    expect((await c.next('pusher:error')).data).toMatchObject({ code: 4300, message: expect.stringMatching(/private- and presence-/) });
    c.send({ event: 'client-x', channel: 'private-elsewhere', data: {} });
    expect((await c.next('pusher:error')).data).toMatchObject({ code: 4300, message: expect.stringMatching(/Subscribe/) });
    c.send({ event: 'client-x', data: {} });
    expect((await c.next('pusher:error')).data.code).toBe(4300);
    c.subscribe('private-encrypted-secret', testSign.channel(app, socketId, 'private-encrypted-secret'));
    await c.next('pusher_internal:subscription_succeeded');
    c.send({ event: 'client-x', channel: 'private-encrypted-secret', data: 'opaque' });
    expect((await c.next('pusher:error')).data.code).toBe(4300);
    await stillOpen(c);
    c.close();

    const { client: q, socketId: qId } = await RawClient.established(h.url(quietApp.key));
    q.subscribe('private-q', testSign.channel(quietApp, qId, 'private-q'));
    await q.next('pusher_internal:subscription_succeeded');
    q.send({ event: 'client-x', channel: 'private-q', data: {} });
    expect((await q.next('pusher:error')).data).toMatchObject({ code: 4300, message: expect.stringMatching(/disabled/) });
    q.close();
    await stillServing();
  });

  it('refuses #server-to-user-{id} to anyone not signed in as that user (403)', async () => {
    const { client: c, socketId } = await connectWithId();
    c.subscribe('#server-to-user-7');
    expect((await c.next('pusher:subscription_error')).data).toMatchObject({ status: 403 });
    const userData = JSON.stringify({ id: '7' });
    c.send({ event: 'pusher:signin', data: { auth: testSign.user(app, socketId, userData), user_data: userData } });
    expect((await c.next('pusher:signin_success')).data).toEqual({ user_data: userData });
    c.subscribe('#server-to-user-7');
    await c.next('pusher_internal:subscription_succeeded');
    c.close();
  });

  it('refuses a watchlist over 100 ids with 4302 and keeps the connection', async () => {
    const { client: c, socketId } = await connectWithId();
    const userData = JSON.stringify({ id: 'w', watchlist: Array.from({ length: 101 }, (_, i) => `u${i}`) });
    c.send({ event: 'pusher:signin', data: { auth: testSign.user(app, socketId, userData), user_data: userData } });
    expect((await c.next('pusher:error')).data.code).toBe(4302);
    expect(c.all('pusher:signin_success')).toEqual([]);
    await stillOpen(c);
    c.close();
  });

  it('closes with 4009 after pusher:error on a sign-in with a bad signature', async () => {
    const c = await connect();
    c.send({ event: 'pusher:signin', data: { auth: `${app.key}:${'f'.repeat(64)}`, user_data: '{"id":"x"}' } });
    expect((await c.next('pusher:error')).data.code).toBe(4009);
    expect((await c.closed).code).toBe(4009);
    await stillServing();
  });

  it('survives abrupt disconnects in the middle of everything', async () => {
    for (let i = 0; i < 20; i++) {
      const { client: c, socketId } = await connectWithId();
      c.subscribe(`presence-abrupt`, testSign.channel(app, socketId, 'presence-abrupt', `{"user_id":${i}}`), `{"user_id":${i}}`);
      c.send({ event: 'client-x', channel: 'presence-abrupt', data: {} });
      c.close();
    }
    await stillServing();
    await waitFor('presence-abrupt vacated', async () => !(await h.node.control.channel(app.id, 'presence-abrupt')).occupied);
    const abrupt = h.sink.seen.filter((o) => 'channel' in o && o.channel === 'presence-abrupt');
    expect(abrupt.filter((o) => o.name === 'member_added')).toHaveLength(20);
    expect(abrupt.filter((o) => o.name === 'member_removed')).toHaveLength(20);
  });
});
