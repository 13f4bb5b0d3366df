import type { SubscriptionError, WireError } from './wire-errors.js';

/**
 * Server-to-client frames, encoded once as UTF-8 JSON bytes so one Buffer can be written to
 * every subscriber. `data` is a JSON-encoded string for connection and pusher_internal
 * events (as pusher-js expects); `pusher:error` and `pusher:subscription_error` carry an
 * object, as Pusher sends them.
 */
const encode = (frame: object): Buffer => Buffer.from(JSON.stringify(frame), 'utf8');

export interface PresenceSnapshot {
  ids: string[];
  hash: Record<string, unknown>;
  count: number;
}

export interface WatchlistEvent {
  name: 'online' | 'offline';
  user_ids: string[];
}

const PING = encode({ event: 'pusher:ping', data: '{}' });
const PONG = encode({ event: 'pusher:pong', data: '{}' });

export const frames = {
  connectionEstablished: (socketId: string, activityTimeoutSeconds: number) =>
    encode({
      event: 'pusher:connection_established',
      data: JSON.stringify({ socket_id: socketId, activity_timeout: activityTimeoutSeconds }),
    }),

  error: (e: Pick<WireError, 'code' | 'message'>) => encode({ event: 'pusher:error', data: { code: e.code, message: e.message } }),

  subscriptionError: (e: SubscriptionError) =>
    encode({ event: 'pusher:subscription_error', channel: e.channel, data: { type: e.type, error: e.message, status: e.status } }),

  subscriptionSucceeded: (channel: string, presence?: PresenceSnapshot) =>
    encode({
      event: 'pusher_internal:subscription_succeeded',
      channel,
      data: JSON.stringify(presence === undefined ? {} : { presence }),
    }),

  memberAdded: (channel: string, userId: string, userInfo: unknown) =>
    encode({ event: 'pusher_internal:member_added', channel, data: JSON.stringify({ user_id: userId, user_info: userInfo }) }),

  memberRemoved: (channel: string, userId: string) =>
    encode({ event: 'pusher_internal:member_removed', channel, data: JSON.stringify({ user_id: userId }) }),

  subscriptionCount: (channel: string, count: number) =>
    encode({ event: 'pusher_internal:subscription_count', channel, data: JSON.stringify({ subscription_count: count }) }),

  cacheMiss: (channel: string) => encode({ event: 'pusher:cache_miss', channel }),

  signinSuccess: (userData: string) => encode({ event: 'pusher:signin_success', data: JSON.stringify({ user_data: userData }) }),

  watchlistEvents: (events: WatchlistEvent[]) => encode({ event: 'pusher_internal:watchlist_events', data: JSON.stringify({ events }) }),

  ping: () => PING,
  pong: () => PONG,

  /** A channel event; `data` is relayed byte-for-byte as the published string. */
  channelEvent: (event: string, channel: string, data: string, userId?: string) =>
    encode(userId === undefined ? { event, channel, data } : { event, channel, data, user_id: userId }),
};
