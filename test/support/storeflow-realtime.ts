import type { AddressInfo } from 'node:net';
import Echo from 'laravel-echo';
import PusherModule from 'pusher-js';
import type * as PusherTypes from 'pusher-js';
import type { PusherApp } from '../../src/realtime/index.js';
import { startTestApp, type Session, type TestApp } from './http-app.js';
import type { PusherClient } from './realtime-clients.js';
import { within } from './waiting.js';

type PusherClass = typeof PusherTypes.default.default;
const Pusher = PusherModule as unknown as PusherClass;

/**
 * StoreFlow with its realtime and worker roles running, listening on 127.0.0.1 (port 0),
 * and real pusher-js / laravel-echo clients whose channel authorization is StoreFlow's own
 * POST /broadcasting/auth, over pusher-js's own form-encoded request.
 */
export interface RealtimeApp extends TestApp {
  port: number;
  baseUrl: string;
  /** StoreFlow's own Pusher app. */
  pusherApp: PusherApp;
  /** A pusher-js client; closed by `close()`. */
  pusher(auth?: ClientAuth): PusherClient;
  echo(auth?: ClientAuth): Echo<'pusher'>;
}

/** How a client signs its auth requests: a dashboard session (cookie + CSRF), a token, or not at all. */
export type ClientAuth = { session: Session; csrf?: string | null } | { token: string } | null;

export async function startRealtimeApp(options: { env?: Record<string, string> } = {}): Promise<RealtimeApp> {
  letAuthRequestsCarryCookies();
  const t = await startTestApp({ env: { PIPELINE_POLL_INTERVAL_MS: '50', ...options.env } });
  await t.flow.start();
  await t.http.listen({ port: 0, host: '127.0.0.1' });
  const port = (t.http.server.address() as AddressInfo).port;
  const baseUrl = `http://127.0.0.1:${port}`;
  const clients: PusherClient[] = [];
  const pusher = (auth: ClientAuth = null) => {
    const client = new Pusher(t.flow.pusher.app.key, {
      cluster: 'local',
      wsHost: '127.0.0.1',
      wsPort: port,
      forceTLS: false,
      enabledTransports: ['ws'],
      disableStats: true,
      channelAuthorization: { endpoint: `${baseUrl}/broadcasting/auth`, transport: 'ajax', headers: authHeaders(auth) },
      userAuthentication: { endpoint: `${baseUrl}/broadcasting/user-auth`, transport: 'ajax', headers: authHeaders(auth) },
    });
    clients.push(client);
    return client;
  };
  return {
    ...t,
    port,
    baseUrl,
    pusherApp: t.flow.pusher.app,
    pusher,
    echo: (auth = null) => new Echo({ broadcaster: 'pusher', client: pusher(auth) }),
    async close() {
      for (const c of clients) c.disconnect();
      await t.close();
    },
  };
}

function authHeaders(auth: ClientAuth): Record<string, string> {
  if (auth === null) return {};
  if ('token' in auth) return { Authorization: `Bearer ${auth.token}` };
  const csrf = auth.csrf === undefined ? auth.session.csrf : auth.csrf;
  return { Cookie: auth.session.cookie, ...(csrf === null ? {} : { 'X-CSRF-TOKEN': csrf }) };
}

/**
 * A browser attaches its cookies to pusher-js's auth request by itself. In Node, pusher-js
 * sends it with an XMLHttpRequest polyfill that refuses a Cookie header unless its header
 * check is off; turning it off lets the very same request carry the session cookie.
 */
function letAuthRequestsCarryCookies(): void {
  const runtime = (Pusher as unknown as { Runtime: { getXHRAPI(): new () => XhrPolyfill } }).Runtime;
  const Original = runtime.getXHRAPI();
  if ((Original as { cookieCapable?: boolean }).cookieCapable) return;
  function CookieCapableXhr() {
    const xhr = new Original();
    xhr.setDisableHeaderCheck(true);
    return xhr;
  }
  CookieCapableXhr.cookieCapable = true;
  runtime.getXHRAPI = () => CookieCapableXhr as unknown as new () => XhrPolyfill;
}
interface XhrPolyfill {
  setDisableHeaderCheck(state: boolean): void;
}

export type SubscriptionOutcome = { ok: true } | { ok: false; status: number | undefined; error: string };

/** Subscribes (or watches an existing subscription) and reports success or the auth failure. */
export function subscription(client: PusherClient, channel: string, timeoutMs = 10_000): Promise<SubscriptionOutcome> {
  const ch = client.channel(channel) ?? client.subscribe(channel);
  if (ch.subscribed) return Promise.resolve({ ok: true });
  return within(
    new Promise<SubscriptionOutcome>((resolve) => {
      ch.bind('pusher:subscription_succeeded', () => resolve({ ok: true }));
      ch.bind('pusher:subscription_error', (e: { status?: number; error?: string }) =>
        resolve({ ok: false, status: e.status, error: String(e.error ?? '') }),
      );
    }),
    `the outcome of subscribing to ${channel}`,
    timeoutMs,
  );
}

/** Every payload of `event` on `channel`, in arrival order. */
export function recorder<T = Record<string, unknown>>(client: PusherClient, channel: string, event: string): T[] {
  const seen: T[] = [];
  (client.channel(channel) ?? client.subscribe(channel)).bind(event, (data: T) => seen.push(data));
  return seen;
}
