import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { OrderView } from '../../src/store/index.js';
import { describeEachAdapter } from '../support/databases.js';
import { startWebhookReceiver, type Behaviour, type WebhookReceiver } from '../support/delivery-fixtures.js';
import { login, moveTo, placeOrder, startTestApp, type Session, type TestApp } from '../support/http-app.js';
import { waitFor } from '../support/waiting.js';

/**
 * Merchant webhooks end to end: an owner registers an endpoint over the API, orders move
 * over HTTP, the merchant-webhooks subscription queues deliveries and the delivery worker
 * sends them to real receivers on 127.0.0.1 that verify the signature with the secret the
 * API showed once. Small backoff and a short attempt timeout make retries quick.
 */
const ATTEMPTS = 3;

interface Envelope {
  id: string;
  name: string;
  version: number;
  timestamp: string;
  source: string;
  stream: string;
  stream_version: number;
  position: number;
  metadata: { merchant_id: number; store_id: number; correlation_id: string };
  payload: { order_id: number; public_id: string };
}

interface DeliveryView {
  id: number;
  event: string;
  event_id: string;
  status: string;
  attempts: number;
  last_error: string | null;
}

await describeEachAdapter('merchant webhooks', ({ db: getDb }) => {
  let t: TestApp;
  let owner: Session;
  let staff: Session;
  const receivers: WebhookReceiver[] = [];
  const endpoints: number[] = [];

  beforeAll(async () => {
    t = await startTestApp({
      database: { db: getDb(), url: null, drop: async () => {} },
      env: {
        WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
        PIPELINE_POLL_INTERVAL_MS: '20',
        DELIVERY_POLL_INTERVAL_MS: '20',
        // Generous: a loaded CI machine must not turn a slow answer into a failed attempt.
        DELIVERY_TIMEOUT_MS: '2500',
        DELIVERY_MAX_ATTEMPTS: String(ATTEMPTS),
        DELIVERY_RETRY_BASE_MS: '10',
        DELIVERY_RETRY_MAX_MS: '50',
      },
    });
    await t.flow.start();
    [owner, staff] = await Promise.all([login(t.http, 'owner'), login(t.http, 'staff')]);
  });
  // Each test's endpoints go away after it, so later orders do not reach its receivers.
  afterEach(async () => {
    for (const id of endpoints.splice(0)) await t.http.inject({ method: 'DELETE', url: `/api/webhook-endpoints/${id}`, headers: owner.headers });
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  async function endpointFor(eventTypes: string[], behave?: Behaviour) {
    const receiver = await startWebhookReceiver(behave);
    receivers.push(receiver);
    const res = await t.http.inject({
      method: 'POST', url: '/api/webhook-endpoints', headers: owner.headers, payload: { url: receiver.url, event_types: eventTypes },
    });
    expect(res.statusCode, res.body).toBe(201);
    receiver.secret = String(res.json().secret);
    const id = Number(res.json().endpoint.id);
    endpoints.push(id);
    return { receiver, id };
  }

  const callsAbout = (receiver: WebhookReceiver, order: OrderView) =>
    receiver.calls.filter((c) => (JSON.parse(c.body) as Envelope).payload.order_id === order.id);

  async function deliveriesOf(endpointId: number): Promise<DeliveryView[]> {
    const res = await t.http.inject({ method: 'GET', url: `/api/webhook-endpoints/${endpointId}/deliveries?limit=100`, headers: owner.headers });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().deliveries as DeliveryView[];
  }

  it('sends each subscribed event as its signed envelope, and only the subscribed types', async () => {
    const { receiver, id } = await endpointFor(['OrderCreated', 'OrderStatusUpdated']);
    const order = await moveTo(t.http, staff, await placeOrder(t.http, staff), 'accepted');

    const calls = await waitFor('two calls', () => (callsAbout(receiver, order).length === 2 ? callsAbout(receiver, order) : null));
    expect(calls.every((c) => c.signatureValid)).toBe(true);
    const bodies = calls.map((c) => JSON.parse(c.body) as Envelope);
    expect(bodies.map((b) => b.name)).toEqual(['OrderCreated', 'OrderStatusUpdated']);
    expect(calls.map((c) => c.headers['storeflow-event'])).toEqual(['OrderCreated', 'OrderStatusUpdated']);
    expect(calls.map((c) => c.headers['storeflow-event-id'])).toEqual(bodies.map((b) => b.id));
    expect(bodies[0]).toMatchObject({
      version: 1, source: 'storeflow', stream: `order-${order.id}`, stream_version: 1, position: expect.any(Number),
      metadata: { merchant_id: t.seed.merchantId, store_id: 1 }, payload: { order_id: order.id, public_id: order.public_id },
    });
    expect(Object.keys(bodies[0]!).sort()).toEqual(['id', 'metadata', 'name', 'payload', 'position', 'source', 'stream', 'stream_version', 'timestamp', 'version']);

    // The receiver answers before the worker records the outcome.
    const mine = await waitFor('both recorded delivered', async () => {
      const list = (await deliveriesOf(id)).filter((d) => bodies.some((b) => b.id === d.event_id));
      return list.every((d) => d.status === 'delivered') ? list : null;
    });
    expect(mine.map((d) => [d.event, d.status, d.attempts])).toEqual([
      ['OrderStatusUpdated', 'delivered', 1],
      ['OrderCreated', 'delivered', 1],
    ]);
  });

  it('retries a receiver that fails twice and delivers once, on the third attempt', async () => {
    const { receiver, id } = await endpointFor(['OrderCreated'], (n) => (n < 2 ? 'fail' : 'ok'));
    const order = await placeOrder(t.http, staff);

    const [delivery] = await waitFor('delivered', async () => {
      const list = await deliveriesOf(id);
      return list[0]?.status === 'delivered' ? list : null;
    });
    expect(delivery).toMatchObject({ event: 'OrderCreated', status: 'delivered', attempts: 3, last_error: null });
    expect(callsAbout(receiver, order)).toHaveLength(3);
    expect(new Set(callsAbout(receiver, order).map((c) => c.headers['storeflow-event-id']))).toEqual(new Set([delivery!.event_id]));
  });

  it('parks a delivery whose receiver never answers; the owner sees the dead letter and a retry re-queues it', async () => {
    const { receiver, id } = await endpointFor(['OrderCreated'], () => 'hang');
    const order = await placeOrder(t.http, staff);

    const [parked] = await waitFor('parked', async () => {
      const list = await deliveriesOf(id);
      return list[0]?.status === 'parked' ? list : null;
    }, 60_000);
    expect(parked).toMatchObject({ attempts: ATTEMPTS, last_error: expect.stringContaining('no answer within 2500 ms') });
    expect(callsAbout(receiver, order)).toHaveLength(ATTEMPTS);

    const letters = await t.http.inject({ method: 'GET', url: '/api/admin/dead-letters?subscription=delivery:webhook', headers: owner.headers });
    expect(letters.statusCode, letters.body).toBe(200);
    const letter = (letters.json().dead_letters as { id: number; event_id: string; status: string; attempts: number }[]).find(
      (l) => l.event_id === parked!.event_id,
    );
    expect(letter).toMatchObject({ status: 'parked', attempts: ATTEMPTS, event_name: 'OrderCreated' });

    const retry = await t.http.inject({ method: 'POST', url: `/api/admin/dead-letters/${letter!.id}/retry`, headers: owner.headers });
    expect(retry.statusCode, retry.body).toBe(202);

    await waitFor('re-queued and attempted again', () => callsAbout(receiver, order).length > ATTEMPTS);
    const retried = await t.http.inject({ method: 'GET', url: '/api/admin/dead-letters?subscription=delivery:webhook&status=retried', headers: owner.headers });
    expect((retried.json().dead_letters as { id: number }[]).map((l) => l.id)).toContain(letter!.id);
    // Still unanswered: after a fresh round of attempts it is parked again, as a new dead letter.
    await waitFor('parked again', async () => (await deliveriesOf(id))[0]?.status === 'parked');
    expect(callsAbout(receiver, order)).toHaveLength(2 * ATTEMPTS);
  });

  it('sends nothing to a removed endpoint', async () => {
    const kept = await endpointFor(['OrderCreated']);
    const removed = await endpointFor(['OrderCreated']);
    const del = await t.http.inject({ method: 'DELETE', url: `/api/webhook-endpoints/${removed.id}`, headers: owner.headers });
    expect(del.statusCode, del.body).toBe(204);

    const order = await placeOrder(t.http, staff);
    // Both endpoints' rows would be queued in one transaction: once one arrived, the other was decided.
    await waitFor('the kept endpoint called', () => callsAbout(kept.receiver, order).length === 1);
    expect(callsAbout(removed.receiver, order)).toEqual([]);
    const queued = await t.db.query('SELECT 1 FROM deliveries WHERE endpoint_id = $1', [removed.id]);
    expect(queued).toEqual([]);
  });
});
