import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The signatures of the Pusher protocol, as the `pusher` SDK computes them: lowercase hex
 * HMAC-SHA256 with the app secret. Pure functions; comparisons of a signature someone sent
 * go through `signaturesEqual` (constant time), never `===`.
 */

export function hmacSha256Hex(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload, 'utf8').digest('hex');
}

/** Constant-time equality of two signatures (a length mismatch answers false at once). */
export function signaturesEqual(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Hex MD5 of a raw request body, the HTTP API's `body_md5`. */
export function bodyMd5(rawBody: string): string {
  return createHash('md5').update(rawBody, 'utf8').digest('hex');
}

/**
 * The string the HTTP API signs: `METHOD\nPATH\nk=v&…` with every query parameter but
 * `auth_signature`, keys lowercased and sorted, values as given (not URL-escaped). `path`
 * is `/apps/{id}/…`, without any mount prefix.
 */
export function stringToSign(method: string, path: string, params: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(params)
    .map(([k, v]) => [k.toLowerCase(), v] as const)
    .filter(([k]) => k !== 'auth_signature')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`);
  return `${method.toUpperCase()}\n${path}\n${pairs.join('&')}`;
}

export function signRequest(secret: string, method: string, path: string, params: Readonly<Record<string, string>>): string {
  return hmacSha256Hex(secret, stringToSign(method, path, params));
}

export function verifyRequest(
  secret: string,
  method: string,
  path: string,
  params: Readonly<Record<string, string>>,
  signature: string,
): boolean {
  return signaturesEqual(signRequest(secret, method, path, params), signature);
}

/** The hex signature a private (or private-encrypted-) channel subscription carries after `key:`. */
export function privateChannelAuth(secret: string, socketId: string, channel: string): string {
  return hmacSha256Hex(secret, `${socketId}:${channel}`);
}

/** Presence: `channelData` is the exact JSON string the client sends as `channel_data`. */
export function presenceChannelAuth(secret: string, socketId: string, channel: string, channelData: string): string {
  return hmacSha256Hex(secret, `${socketId}:${channel}:${channelData}`);
}

/** `pusher:signin`: `userData` is the exact JSON string the client sends as `user_data`. */
export function userAuth(secret: string, socketId: string, userData: string): string {
  return hmacSha256Hex(secret, `${socketId}::user::${userData}`);
}

/**
 * The `shared_secret` of a private-encrypted- channel: base64 of sha256(channel name bytes
 * followed by the 32-byte master key). The server never needs it (it relays ciphertext);
 * auth endpoints hand it to clients.
 */
export function sharedSecret(channel: string, masterKey: Uint8Array): string {
  return createHash('sha256').update(Buffer.from(channel, 'utf8')).update(masterKey).digest('base64');
}

/** `X-Pusher-Signature` of a webhook: hex HMAC-SHA256 of the raw body. */
export function webhookSignature(secret: string, rawBody: string): string {
  return hmacSha256Hex(secret, rawBody);
}
