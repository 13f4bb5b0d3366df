import { isValidUserId, parseChannelName } from '../channels/channel-name.js';
import { SOCKET_ID } from '../protocol/socket-id.js';

/**
 * What the HTTP API accepts, in terms of the one channel-name grammar (channels/channel-name.ts)
 * and the socket-id format the WebSocket side hands out.
 */
export const EVENT_NAME_MAX_LENGTH = 200;

export { isValidUserId };

/** A channel clients can subscribe to by name (not a signed-in user's `#server-to-user-…`). */
export function isValidChannelName(name: string): boolean {
  const parsed = parseChannelName(name);
  return parsed !== undefined && parsed.kind !== 'user';
}

/** A channel the HTTP API may publish to: any valid name, a signed-in user's channel included. */
export const isPublishableChannel = (name: string): boolean => parseChannelName(name) !== undefined;

export const isValidSocketId = (id: string): boolean => id.length <= 64 && SOCKET_ID.test(id);

/** Events a server must not forge: the protocol's own. */
export function isValidServerEventName(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= EVENT_NAME_MAX_LENGTH &&
    !name.startsWith('pusher:') &&
    !name.startsWith('pusher_internal:')
  );
}

export const isPresenceChannel = (name: string): boolean => parseChannelName(name)?.kind === 'presence';
export const isCacheChannel = (name: string): boolean => parseChannelName(name)?.cached === true;
