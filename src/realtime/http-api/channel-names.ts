/**
 * Names on the Pusher wire. Channel names use `[A-Za-z0-9_\-=@,.;]`, at most 200
 * characters; `#server-to-user-{user id}` is the reserved channel of a signed-in user, which
 * servers publish to (the SDK's `sendToUser`) but clients never subscribe to by name.
 */
export const CHANNEL_NAME_MAX_LENGTH = 200;
export const EVENT_NAME_MAX_LENGTH = 200;
export const USER_ID_MAX_LENGTH = 128;
export const SERVER_TO_USER_PREFIX = '#server-to-user-';

const CHANNEL_NAME = /^[A-Za-z0-9_\-=@,.;]+$/;
const SOCKET_ID = /^\d+\.\d+$/;

export function isValidChannelName(name: string): boolean {
  return name.length <= CHANNEL_NAME_MAX_LENGTH && CHANNEL_NAME.test(name);
}

/** A channel the HTTP API may publish to: a valid name or a signed-in user's channel. */
export function isPublishableChannel(name: string): boolean {
  if (!name.startsWith(SERVER_TO_USER_PREFIX)) return isValidChannelName(name);
  return isValidUserId(name.slice(SERVER_TO_USER_PREFIX.length));
}

export function isValidSocketId(id: string): boolean {
  return id.length <= 64 && SOCKET_ID.test(id);
}

/** A user id is whatever the app's user_data says (<= 128 chars), minus control characters. */
export function isValidUserId(id: string): boolean {
  return id.length > 0 && id.length <= USER_ID_MAX_LENGTH && !/[\u0000-\u001f\u007f]/.test(id);
}

/** Events a server must not forge: the protocol's own. */
export function isValidServerEventName(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= EVENT_NAME_MAX_LENGTH &&
    !name.startsWith('pusher:') &&
    !name.startsWith('pusher_internal:')
  );
}

export const isPresenceChannel = (name: string) => name.startsWith('presence-');
export const isCacheChannel = (name: string) => /^(private-encrypted-|private-|presence-)?cache-/.test(name);
