import type { ChannelInfo } from '../contracts.js';
import { isCacheChannel, isPresenceChannel } from './channel-names.js';
import { PusherHttpError } from './http-api-errors.js';

/**
 * The `info` attributes of the HTTP API (a comma-separated query or body field) and how a
 * ChannelInfo reads in a response. Unknown attributes are ignored, as Pusher does.
 */
export type ChannelAttribute = 'user_count' | 'subscription_count' | 'cache';

export interface ChannelAttributes {
  occupied?: boolean;
  user_count?: number;
  subscription_count?: number;
  cache?: { event: string; data: string };
}

export function parseInfo(info: string | undefined): Set<ChannelAttribute> {
  const wanted = new Set<ChannelAttribute>();
  for (const part of (info ?? '').split(',')) {
    const a = part.trim();
    if (a === 'user_count' || a === 'subscription_count' || a === 'cache') wanted.add(a);
  }
  return wanted;
}

/**
 * The requested attributes of one channel. `user_count` is a presence attribute: asked
 * about a named non-presence channel it is a 400 (`strict`); in a publish response it is
 * left out for the channels it does not apply to.
 */
export function attributesOf(
  channel: string,
  info: ChannelInfo,
  wanted: ReadonlySet<ChannelAttribute>,
  strict: boolean,
): ChannelAttributes {
  const out: ChannelAttributes = {};
  if (wanted.has('user_count')) {
    if (isPresenceChannel(channel)) out.user_count = info.userCount ?? 0;
    else if (strict) throw new PusherHttpError('USER_COUNT_PRESENCE_ONLY');
  }
  if (wanted.has('subscription_count')) out.subscription_count = info.subscriptionCount;
  if (wanted.has('cache') && isCacheChannel(channel) && info.cache) {
    out.cache = { event: info.cache.event, data: info.cache.data };
  }
  return out;
}
