import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import Pusher from 'pusher';
import { pusherHttpApi } from '../../../src/realtime/http-api/pusher-http-api.js';
import type { PusherApp } from '../../../src/realtime/contracts.js';
import { FakeRealtimeControl, testPusherApp } from '../../support/realtime-fake-control.js';

/**
 * A real Fastify server on 127.0.0.1 serving the Pusher HTTP API twice, at the root and
 * under `/pusher`, next to a root JSON route (the plugin's raw-body parser must not leak
 * out of its scope). Its clock can be skewed to make the SDK's timestamps stale.
 */
export interface HttpApiHarness {
  server: FastifyInstance;
  control: FakeRealtimeControl;
  baseUrl: string;
  port: number;
  /** Moves the server's clock (ms) relative to real time. */
  skewClock(ms: number): void;
  sdk(app: Pick<PusherApp, 'id' | 'key' | 'secret'>, opts?: { prefix?: string }): Pusher;
  close(): Promise<void>;
}

export const APP = testPusherApp({ id: '1', key: 'app-key-1', secret: 'app-secret-1', maxMessageBytes: 2048 });
export const DISABLED_APP = testPusherApp({ id: '2', key: 'app-key-2', secret: 'app-secret-2', enabled: false });

export async function startHttpApi(): Promise<HttpApiHarness> {
  const control = new FakeRealtimeControl([APP, DISABLED_APP]);
  let skew = 0;
  const clock = { now: () => new Date(Date.now() + skew) };
  const server = Fastify({ logger: false });
  server.post('/echo', async (request) => ({ got: request.body }));
  await server.register(pusherHttpApi, { control, clock });
  await server.register(pusherHttpApi, { control, clock, prefix: '/pusher' });
  await server.listen({ host: '127.0.0.1', port: 0 });
  const port = (server.server.address() as AddressInfo).port;
  return {
    server,
    control,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    skewClock: (ms) => {
      skew = ms;
    },
    // The SDK has no path option; a host carrying the prefix is how it reaches a mounted API.
    sdk: (app, opts) =>
      opts?.prefix
        ? new Pusher({ appId: app.id, key: app.key, secret: app.secret, host: `127.0.0.1:${port}${opts.prefix}`, useTLS: false, timeout: 5000 })
        : new Pusher({ appId: app.id, key: app.key, secret: app.secret, host: '127.0.0.1', port: String(port), useTLS: false, timeout: 5000 }),
    close: () => server.close(),
  };
}

/**
 * A request signed by the SDK (`createSignedQueryString`) but sent as given: bodies the SDK
 * would refuse to build (too many channels, bad names) or that differ from what was signed.
 */
export async function signedFetch(
  h: HttpApiHarness,
  sdk: Pusher,
  call: { method: 'GET' | 'POST'; path: string; body?: string; signedBody?: string; params?: Record<string, string>; prefix?: string },
): Promise<{ status: number; body: string; contentType: string | null }> {
  const qs = sdk.createSignedQueryString({
    method: call.method,
    path: call.path,
    ...(call.signedBody ?? call.body ? { body: call.signedBody ?? call.body } : {}),
    ...(call.params ? { params: call.params } : {}),
  });
  const res = await fetch(`${h.baseUrl}${call.prefix ?? ''}${call.path}?${qs}`, {
    method: call.method,
    body: call.body,
    headers: call.body === undefined ? {} : { 'content-type': 'application/json' },
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, body: await res.text(), contentType: res.headers.get('content-type') };
}

/** What an SDK call that should fail answered (status and plain-text body). */
export async function rejectionOf(p: Promise<unknown>): Promise<{ status: number | undefined; body: string | undefined }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof Pusher.RequestError) return { status: e.status, body: e.body };
    throw e;
  }
  throw new Error('expected the call to fail');
}
