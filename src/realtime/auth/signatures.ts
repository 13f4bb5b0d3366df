import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Pusher auth signatures: lowercase hex HMAC-SHA256 with the app secret, sent as
 * `<key>:<hex>`. What is signed:
 * - private and encrypted channels: `<socket_id>:<channel>`
 * - presence channels: `<socket_id>:<channel>:<channel_data>` (the exact string the client sends)
 * - user sign-in: `<socket_id>::user::<user_data>`
 * Verification compares in constant time and never tells which part was wrong.
 */
export interface AppCredentials {
  key: string;
  secret: string;
}

export function hmacHex(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('hex');
}

export function channelSigningString(socketId: string, channel: string, channelData?: string): string {
  return channelData === undefined ? `${socketId}:${channel}` : `${socketId}:${channel}:${channelData}`;
}

export function userSigningString(socketId: string, userData: string): string {
  return `${socketId}::user::${userData}`;
}

/** The `auth` value an app's auth endpoint returns for a channel subscription. */
export function signChannel(app: AppCredentials, socketId: string, channel: string, channelData?: string): string {
  return `${app.key}:${hmacHex(app.secret, channelSigningString(socketId, channel, channelData))}`;
}

/** The `auth` value an app's user-authentication endpoint returns for `pusher:signin`. */
export function signUser(app: AppCredentials, socketId: string, userData: string): string {
  return `${app.key}:${hmacHex(app.secret, userSigningString(socketId, userData))}`;
}

/** True when `auth` is `<app key>:<hex HMAC of signed>`; constant time in the signature. */
export function verifyAuth(app: AppCredentials, auth: string | undefined, signed: string): boolean {
  if (typeof auth !== 'string') return false;
  const colon = auth.indexOf(':');
  if (colon < 0 || auth.slice(0, colon) !== app.key) return false;
  const given = Buffer.from(auth.slice(colon + 1), 'utf8');
  const expected = Buffer.from(hmacHex(app.secret, signed), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
