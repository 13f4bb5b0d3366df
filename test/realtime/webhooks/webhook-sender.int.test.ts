import { afterEach, describe, expect, it } from 'vitest';
import type { PusherApp, WebhookEventName } from '../../../src/realtime/contracts.js';
import { WebhookSender, type WebhookSenderOptions } from '../../../src/realtime/webhooks/webhook-sender.js';
import { InMemoryAppRegistry, testPusherApp } from '../../support/realtime-fake-control.js';
import { waitFor, within } from '../../support/waiting.js';
import { startPusherWebhookReceiver, type PusherWebhookReceiver, type ReceiverBehaviour } from './pusher-webhook-receiver.js';

/**
 * The webhook sender against real HTTP receivers on 127.0.0.1 that verify every request
 * with the `pusher` SDK. Short hold-back, batch and retry settings keep the suite quick;
 * waits are bounded and nothing is asserted about how long anything took.
 */
const ALL_EVENTS: WebhookEventName[] = [
  'channel_occupied', 'channel_vacated', 'member_added', 'member_removed', 'client_event', 'cache_miss', 'subscription_count',
];

const running: Array<{ sender: WebhookSender; receiver: PusherWebhookReceiver }> = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.sender.stop();
    await r.receiver.close();
  }
});

interface Setup {
  events?: WebhookEventName[];
  behave?: ReceiverBehaviour;
  sender?: Partial<WebhookSenderOptions>;
  app?: Pick<PusherApp, 'id' | 'key' | 'secret'>;
}

async function startSender(s: Setup = {}) {
  const creds = s.app ?? { id: '1', key: 'wh-key', secret: 'wh-secret' };
  const receiver = await startPusherWebhookReceiver(creds, s.behave);
  const apps = new InMemoryAppRegistry([testPusherApp({ ...creds, webhook: { url: receiver.url, events: s.events ?? ALL_EVENTS } })]);
  const logs: Array<{ msg: string; obj: object }> = [];
  const sender = new WebhookSender({
    apps,
    logger: { warn: (obj, msg) => logs.push({ obj, msg }) },
    holdBackMs: 300,
    batchWindowMs: 20,
    requestTimeoutMs: 2_000,
    retry: { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 100 },
    stopGraceMs: 1_000,
    ...s.sender,
  });
  sender.start();
  running.push({ sender, receiver });
  return { sender, receiver, logs, appId: creds.id };
}

describe('sending', () => {
  it('posts one batch, signed so that the SDK verifies it, with the events in order', async () => {
    const { sender, receiver } = await startSender({ sender: { batchWindowMs: 100 } });
    const before = Date.now();
    sender.occurred('1', { name: 'channel_occupied', channel: 'private-orders' });
    sender.occurred('1', { name: 'subscription_count', channel: 'lobby', subscription_count: 3 });
    sender.occurred('1', { name: 'client_event', channel: 'private-chat', event: 'client-typing', data: '{"on":true}', socket_id: '1.2', user_id: '9' });
    sender.occurred('1', { name: 'cache_miss', channel: 'cache-prices' });

    const [call] = await waitFor('a webhook', () => (receiver.calls.length > 0 ? receiver.calls : null));
    expect(call!.valid).toBe(true);
    expect(call!.headers['content-type']).toBe('application/json');
    expect(call!.headers['x-pusher-key']).toBe('wh-key');
    expect(call!.timeMs).toBeGreaterThanOrEqual(before);
    expect(call!.events).toEqual([
      { name: 'channel_occupied', channel: 'private-orders' },
      { name: 'subscription_count', channel: 'lobby', subscription_count: 3 },
      { name: 'client_event', channel: 'private-chat', event: 'client-typing', data: '{"on":true}', socket_id: '1.2', user_id: '9' },
      { name: 'cache_miss', channel: 'cache-prices' },
    ]);
    expect(Object.keys(JSON.parse(call!.rawBody))).toEqual(['time_ms', 'events']);
  });

  it('sends only the events the app subscribed to', async () => {
    const { sender, receiver } = await startSender({ events: ['channel_occupied', 'cache_miss'] });
    sender.occurred('1', { name: 'member_added', channel: 'presence-a', user_id: '1' });
    sender.occurred('1', { name: 'client_event', channel: 'private-a', event: 'client-x', data: '{}', socket_id: '1.1' });
    sender.occurred('1', { name: 'channel_occupied', channel: 'a' });
    sender.occurred('1', { name: 'cache_miss', channel: 'marker' });
    await waitFor('the marker', () => receiver.acceptedEvents().some((e) => e.channel === 'marker'));
    expect(receiver.acceptedEvents()).toEqual([
      { name: 'channel_occupied', channel: 'a' },
      { name: 'cache_miss', channel: 'marker' },
    ]);
  });

  it("keeps apps apart: each app's events go to its own URL signed with its own secret", async () => {
    const one = await startSender({ app: { id: 'a1', key: 'k1', secret: 's1' } });
    const two = await startSender({ app: { id: 'a2', key: 'k2', secret: 's2' } });
    one.sender.occurred('a1', { name: 'cache_miss', channel: 'for-one' });
    two.sender.occurred('a2', { name: 'cache_miss', channel: 'for-two' });
    await waitFor('both', () => one.receiver.calls.length > 0 && two.receiver.calls.length > 0);
    expect(one.receiver.calls.map((c) => [c.valid, c.events])).toEqual([[true, [{ name: 'cache_miss', channel: 'for-one' }]]]);
    expect(two.receiver.calls.map((c) => [c.valid, c.events])).toEqual([[true, [{ name: 'cache_miss', channel: 'for-two' }]]]);
  });
});

describe('holding back departures', () => {
  it('sends channel_vacated once the delay passes without a comeback', async () => {
    const { sender, receiver } = await startSender();
    sender.occurred('1', { name: 'channel_vacated', channel: 'gone' });
    expect(sender.stats().held).toBe(1);
    await waitFor('the vacated', () => receiver.acceptedEvents().length > 0);
    expect(receiver.acceptedEvents()).toEqual([{ name: 'channel_vacated', channel: 'gone' }]);
  });

  it('drops a vacated and its re-occupation when the channel is occupied again within the delay', async () => {
    const { sender, receiver } = await startSender({ sender: { holdBackMs: 60_000 } });
    sender.occurred('1', { name: 'channel_occupied', channel: 'reload' });
    sender.occurred('1', { name: 'channel_vacated', channel: 'reload' });
    expect(sender.stats().held).toBe(1);
    sender.occurred('1', { name: 'channel_occupied', channel: 'reload' });
    expect(sender.stats().held).toBe(0);
    sender.occurred('1', { name: 'cache_miss', channel: 'marker' });
    await waitFor('the marker', () => receiver.acceptedEvents().some((e) => e.channel === 'marker'));
    expect(receiver.acceptedEvents()).toEqual([
      { name: 'channel_occupied', channel: 'reload' },
      { name: 'cache_miss', channel: 'marker' },
    ]);
  });

  it('drops a member_removed and its member_added when the same user comes back, and only that user', async () => {
    const { sender, receiver } = await startSender();
    sender.occurred('1', { name: 'member_added', channel: 'presence-room', user_id: 'u1' });
    sender.occurred('1', { name: 'member_removed', channel: 'presence-room', user_id: 'u1' });
    sender.occurred('1', { name: 'member_removed', channel: 'presence-room', user_id: 'u2' });
    sender.occurred('1', { name: 'member_removed', channel: 'presence-other', user_id: 'u1' });
    sender.occurred('1', { name: 'member_added', channel: 'presence-room', user_id: 'u1' });
    expect(sender.stats().held).toBe(2);
    await waitFor('both held removals', () => receiver.acceptedEvents().length >= 3);
    expect(receiver.acceptedEvents()).toEqual([
      { name: 'member_added', channel: 'presence-room', user_id: 'u1' },
      { name: 'member_removed', channel: 'presence-room', user_id: 'u2' },
      { name: 'member_removed', channel: 'presence-other', user_id: 'u1' },
    ]);
  });

  it('sends what it held back when stopped', async () => {
    const { sender, receiver } = await startSender({ sender: { holdBackMs: 60_000 } });
    sender.occurred('1', { name: 'channel_vacated', channel: 'closing' });
    await within(sender.stop(), 'stop');
    expect(receiver.acceptedEvents()).toEqual([{ name: 'channel_vacated', channel: 'closing' }]);
  });
});

describe('failing receivers', () => {
  it('retries a receiver that fails twice and delivers the batch once', async () => {
    const { sender, receiver } = await startSender({ behave: (n) => (n < 2 ? 'fail' : 'ok') });
    sender.occurred('1', { name: 'channel_occupied', channel: 'flaky' });
    await waitFor('delivered', () => sender.stats().delivered === 1);
    expect(receiver.calls.map((c) => c.answered)).toEqual(['fail', 'fail', 'ok']);
    expect(receiver.calls.every((c) => c.valid && c.rawBody === receiver.calls[0]!.rawBody)).toBe(true);
    expect(receiver.acceptedEvents()).toEqual([{ name: 'channel_occupied', channel: 'flaky' }]);
    expect(sender.stats()).toMatchObject({ delivered: 1, dropped: 0, queuedBatches: 0 });
  });

  it('retries an attempt that timed out', async () => {
    const { sender, receiver } = await startSender({ behave: (n) => (n === 0 ? 'hang' : 'ok'), sender: { requestTimeoutMs: 200 } });
    sender.occurred('1', { name: 'cache_miss', channel: 'slow' });
    await waitFor('delivered', () => sender.stats().delivered === 1);
    expect(receiver.calls.map((c) => c.answered)).toEqual(['hang', 'ok']);
  });

  it('gives up on a receiver that never answers, keeping at most the configured batches queued', async () => {
    const { sender, receiver, logs } = await startSender({
      behave: () => 'hang',
      sender: { requestTimeoutMs: 100, retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 }, maxEventsPerBatch: 1, maxQueuedBatches: 3 },
    });
    for (let i = 0; i < 40; i++) sender.occurred('1', { name: 'cache_miss', channel: `c${i}` });
    expect(sender.stats().queuedBatches).toBeLessThanOrEqual(3);

    await waitFor('every batch dropped', () => sender.stats().dropped === 40);
    expect(sender.stats()).toMatchObject({ delivered: 0, queuedBatches: 0, bufferedEvents: 0, batchesInFlight: 0 });
    // Only the newest batches were tried, each as often as the policy allows.
    expect(receiver.calls.length).toBeLessThanOrEqual(4 * 2);
    expect(receiver.calls.every((c) => c.valid)).toBe(true);
    expect(receiver.calls.at(-1)!.events).toEqual([{ name: 'cache_miss', channel: 'c39' }]);
    expect(logs.filter((l) => l.msg.includes('queue full')).length).toBeGreaterThan(0);
    expect(logs.filter((l) => l.msg.includes('given up')).length).toBeGreaterThan(0);
  });

  it('stops within its grace period while a receiver hangs, dropping what is left', async () => {
    const { sender, receiver, logs } = await startSender({
      behave: () => 'hang',
      sender: { requestTimeoutMs: 30_000, stopGraceMs: 200 },
    });
    sender.occurred('1', { name: 'cache_miss', channel: 'stuck' });
    await waitFor('the attempt', () => receiver.calls.length === 1);
    await within(sender.stop(), 'stop', 5_000);
    expect(sender.stats().dropped).toBe(1);
    expect(logs.some((l) => l.msg.includes('given up') && (l.obj as { stopped?: boolean }).stopped === true)).toBe(true);
  });
});
