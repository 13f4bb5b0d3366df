import type { AppRegistry, PusherApp } from '../contracts.js';
import { PusherHttpError } from './http-api-errors.js';
import { bodyMd5, signaturesEqual, signRequest, stringToSign } from './signature.js';

/** How far `auth_timestamp` may be from the server's clock, either way. */
export const AUTH_TIMESTAMP_GRACE_SECONDS = 600;

/** An HTTP API request as the signature sees it. */
export interface SignedRequest {
  appId: string;
  method: string;
  /**
   * The path `/apps/{id}/…` (mount prefix removed) as it travelled and percent-decoded: the
   * SDKs sign unescaped paths, and a user id in the path may arrive escaped.
   */
  paths: readonly string[];
  query: Readonly<Record<string, string>>;
  rawBody: string;
}

/**
 * Finds the app and checks the request is signed by it, in Pusher's order: unknown app
 * (404), missing or wrong auth parameters, stale timestamp, body_md5, signature (401),
 * then a disabled app (403: only a caller holding the secret learns it is disabled).
 */
export function authenticate(req: SignedRequest, apps: AppRegistry, now: Date): PusherApp {
  const app = apps.byId(req.appId);
  if (!app) throw new PusherHttpError('UNKNOWN_APP');
  const q = req.query;
  const { auth_key: key, auth_timestamp: timestamp, auth_version: version, auth_signature: signature } = q;
  if (key === undefined || timestamp === undefined || version === undefined || signature === undefined) {
    throw new PusherHttpError('AUTH_PARAMS_MISSING');
  }
  if (!signaturesEqual(app.key, key)) throw new PusherHttpError('UNKNOWN_AUTH_KEY');
  if (version !== '1.0') throw new PusherHttpError('AUTH_VERSION_UNSUPPORTED');
  const seconds = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : Number.NaN;
  const skew = Math.abs(now.getTime() / 1000 - seconds);
  if (!(skew <= AUTH_TIMESTAMP_GRACE_SECONDS)) {
    throw new PusherHttpError('TIMESTAMP_EXPIRED', `server time is ${Math.floor(now.getTime() / 1000)}`);
  }
  if (req.rawBody !== '' && q.body_md5 === undefined) throw new PusherHttpError('BODY_MD5_MISSING');
  if (q.body_md5 !== undefined && !signaturesEqual(bodyMd5(req.rawBody), q.body_md5.toLowerCase())) {
    throw new PusherHttpError('BODY_MD5_INVALID');
  }
  const signed = req.paths.some((path) => signaturesEqual(signRequest(app.secret, req.method, path, q), signature.toLowerCase()));
  if (!signed) {
    // Like Pusher, name the string that should have been signed (it holds no secret).
    throw new PusherHttpError('SIGNATURE_INVALID', JSON.stringify(stringToSign(req.method, req.paths[0] ?? '', q)));
  }
  if (!app.enabled) throw new PusherHttpError('APP_DISABLED');
  return app;
}

/**
 * Parses a raw query string (form decoding, as the SDKs' URLs are read everywhere). A
 * repeated parameter is refused: which of its values was signed would be a guess.
 */
export function parseSignedQuery(rawQuery: string): Record<string, string> {
  const params = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(rawQuery)) {
    if (params.has(k)) throw new PusherHttpError('QUERY_INVALID', `repeated parameter ${k.slice(0, 50)}`);
    params.set(k, v);
  }
  return Object.fromEntries(params);
}

/** The signing path: from `/apps/` on, ignoring whatever the API is mounted under. */
export function signingPaths(rawPath: string, mountPrefix: string): string[] {
  const from = rawPath.startsWith(mountPrefix) ? mountPrefix.length : 0;
  const at = rawPath.indexOf('/apps/', from);
  const path = at < 0 ? rawPath : rawPath.slice(at);
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // A malformed escape: only the path as sent can match.
  }
  return decoded === path ? [path] : [decoded, path];
}
