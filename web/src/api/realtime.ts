import Echo from 'laravel-echo';
import Pusher from 'pusher-js';
import type { PusherLike } from '../realtime/index.js';
import type { ClientConfig } from './types.js';
import { get } from './http.js';

/**
 * One Echo (pusher-js) connection per page, to the server that served the page: the same
 * code works against the embedded server and a cluster behind a load balancer. Staff
 * connections authorize private channels with the session cookie and the CSRF token.
 */
let config: Promise<ClientConfig> | null = null;

export async function createEcho(csrfToken: string | null): Promise<Echo<'pusher'>> {
  config ??= get<ClientConfig>('/api/client-config');
  const { pusher } = await config;
  const secure = location.protocol === 'https:';
  const port = Number(location.port) || (secure ? 443 : 80);
  const client = new Pusher(pusher.key, {
    cluster: pusher.cluster,
    wsHost: location.hostname,
    wsPort: port,
    wssPort: port,
    forceTLS: secure,
    enabledTransports: ['ws', 'wss'],
    disableStats: true,
    channelAuthorization: {
      endpoint: '/broadcasting/auth',
      transport: 'ajax',
      headers: csrfToken ? { 'X-CSRF-TOKEN': csrfToken } : {},
    },
  });
  return new Echo({ broadcaster: 'pusher', client });
}

/** A connection that never comes up: a LiveFeed given it polls the catch-up read. */
export function withoutSocket(): PusherLike {
  const channel = { subscribed: false, bind: () => undefined, unbind: () => undefined };
  return {
    connection: { state: 'unavailable', bind: () => undefined, unbind: () => undefined },
    subscribe: () => channel,
    unsubscribe: () => undefined,
    channel: () => undefined,
  };
}
