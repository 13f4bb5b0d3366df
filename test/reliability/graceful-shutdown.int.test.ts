import { randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { afterEach, expect, it } from 'vitest';
import { killAllNodes, startNode } from '../support/cluster-processes.js';
import { TEST_PUSHER_APP } from '../support/http-app.js';
import { call, checkout, signIn } from '../support/node-http.js';
import { describeOnPostgres } from '../support/postgres-suite.js';
import { RawClient } from '../support/realtime-clients.js';
import { waitFor, within } from '../support/waiting.js';

/**
 * SIGTERM on a node of two (every role, one PostgreSQL): readiness answers 503 first (seen
 * while a client that ignores the close handshake holds the node's socket phase open), its
 * WebSockets are closed with a 4200-range code (reconnect now, elsewhere), requests in flight are finished (every order
 * written was answered, every 201 was written), it exits 0, and its leases are released and
 * announced so the other node takes every subscription at once — its lease retry is set ten
 * minutes away, far past the test's bounds.
 */
const SUBSCRIPTIONS = ['store-counters', 'notifier', 'merchant-webhooks', 'broadcaster'];

await describeOnPostgres('SIGTERM on one of two nodes [postgres, child processes]', (database) => {
  afterEach(killAllNodes);

  it('closes its sockets with 4200, finishes requests in flight, exits 0 and hands its leases over at once', { timeout: 90_000 }, async () => {
    const { db, url } = database();
    const env = { DATABASE_URL: url!, PIPELINE_LEASE_RETRY_MS: '600000' };
    const first = await startNode(env);
    const holders = () => db.query<{ name: string; holder: string | null }>('SELECT name, holder FROM subscriptions ORDER BY name');
    await waitFor('the first node to hold every subscription', async () => {
      const rows = await holders();
      return rows.length === SUBSCRIPTIONS.length && rows.every((r) => r.holder === `${hostname()}:${first.pid}`);
    });
    const second = await startNode({ ...env, STOREFLOW_SEED_DEMO: 'false' });
    const { client } = await RawClient.established(`ws://127.0.0.1:${first.port}/app/${TEST_PUSHER_APP.key}?protocol=7`);
    const deaf = await deafWebSocket(first.port);
    const deafClosed = new Promise<void>((resolve) => deaf.once('close', () => resolve()));

    // Checkouts in flight while the signal arrives: each is answered 201, or refused by a
    // server that no longer accepts (connection refused or reset; 503 from Fastify while closing).
    const outcomes: (number | string)[] = [];
    const load = Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 25; i++) {
        try {
          outcomes.push((await checkout(first.url, undefined, 15_000)).status);
        } catch (e) {
          outcomes.push(String((e as { cause?: { code?: string } }).cause?.code ?? e));
        }
      }
    });
    await waitFor('some checkouts to succeed', () => outcomes.filter((o) => o === 201).length >= 5);
    const exitCode = first.kill('SIGTERM');

    const draining = await waitFor('readiness to answer 503 while the node drains', async () => {
      const ready = await call(first.url, 'GET', '/health/ready', { timeoutMs: 2_000 });
      return ready.status === 503 ? ready.body : undefined;
    }, 15_000);
    expect(draining).toMatchObject({ draining: true, error: { code: 'NOT_READY', details: { draining: true } } });
    const closed = await within(client.closed, 'the socket to be closed', 15_000);
    expect(closed.code).toBeGreaterThanOrEqual(4200);
    expect(closed.code).toBeLessThan(4300);
    expect(await exitCode).toBe(0);
    await within(deafClosed, 'the node to cut the deaf socket', 5_000);
    await Promise.all(load);

    await waitFor('the second node to hold every subscription', async () =>
      (await holders()).every((r) => r.holder === `${hostname()}:${second.pid}`),
      15_000,
    );
    const answered = outcomes.filter((o) => o === 201).length;
    expect(outcomes.filter((o) => o !== 201 && o !== 503 && !/ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET/.test(String(o)))).toEqual([]);
    const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM orders');
    expect(row?.n).toBe(answered);
  });

  it('exits 0 within its budget while a webhook delivery hangs, leaving that delivery to be made again', { timeout: 60_000 }, async () => {
    const { db, url } = database();
    const receiver = await silentReceiver();
    try {
      const node = await startNode({ DATABASE_URL: url!, WEBHOOK_ALLOW_PRIVATE_URLS: 'true', DELIVERY_TIMEOUT_MS: '30000' });
      const owner = await signIn(node.url, 'owner');
      const endpoint = await call(node.url, 'POST', '/api/webhook-endpoints', { headers: owner, body: { url: receiver.url, event_types: ['OrderCreated'] } });
      expect(endpoint.status, JSON.stringify(endpoint.body)).toBe(201);
      expect((await checkout(node.url)).status).toBe(201);
      await waitFor('the webhook attempt to be in flight', () => receiver.received() > 0);

      expect(await node.kill('SIGTERM')).toBe(0);
      const [row] = await db.query<{ status: string }>(`SELECT status FROM deliveries WHERE kind = 'webhook'`);
      expect(row?.status).toBe('pending');
    } finally {
      await receiver.close();
    }
  });
});

/**
 * A webhook receiver that takes every request and never answers: a delivery attempt stays in
 * flight until its timeout (here 30 s, three times the shutdown budget).
 */
async function silentReceiver(): Promise<{ url: string; received: () => number; close(): Promise<void> }> {
  let received = 0;
  const held = new Set<ServerResponse>();
  const server = createServer((_req, res) => {
    received++;
    held.add(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of held) res.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A WebSocket client that completes the handshake and then never answers anything, not even
 * the close frame: the node waits for it (up to its socket grace) before going on with its
 * shutdown, which keeps the draining phase open long enough to observe.
 */
async function deafWebSocket(port: number): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  await within(
    new Promise<void>((resolve, reject) => {
      socket.once('connect', () => {
        socket.write(
          [
            `GET /app/${TEST_PUSHER_APP.key}?protocol=7 HTTP/1.1`,
            `Host: 127.0.0.1:${port}`,
            'Upgrade: websocket',
            'Connection: Upgrade',
            `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
            'Sec-WebSocket-Version: 13',
            '',
            '',
          ].join('\r\n'),
        );
      });
      socket.once('data', (d) => (d.toString('latin1').startsWith('HTTP/1.1 101') ? resolve() : reject(new Error(d.toString('latin1').slice(0, 100)))));
    }),
    'a deaf WebSocket handshake',
    10_000,
  );
  // Reads (and ignores) whatever comes, so the end of the connection is seen; answers nothing.
  socket.on('data', () => {});
  return socket;
}
