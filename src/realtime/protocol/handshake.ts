import type { PusherApp } from '../contracts.js';
import { InvalidPathError } from './wire-errors.js';

/**
 * The connect URL: `/app/{key}?protocol=7&client=…&version=…` (relative to wherever the
 * transport is mounted). Throws InvalidPathError (4005) for any other path.
 */
export interface ConnectRequest {
  key: string;
  /** null when the query has no `protocol`. */
  protocol: string | null;
}

const APP_PATH = /^\/app\/([^/]+)\/?$/;

export function parseConnectUrl(url: string): ConnectRequest {
  let parsed: URL;
  try {
    parsed = new URL(url, 'http://localhost');
  } catch {
    throw new InvalidPathError();
  }
  const key = APP_PATH.exec(parsed.pathname)?.[1];
  if (key === undefined) throw new InvalidPathError();
  let decoded: string;
  try {
    decoded = decodeURIComponent(key);
  } catch {
    throw new InvalidPathError();
  }
  return { key: decoded, protocol: parsed.searchParams.get('protocol') };
}

/**
 * Whether a browser page at `origin` may connect. Entries of `allowedOrigins` are `*`, a full
 * origin (`https://shop.example`), a host name (`shop.example`) or a wildcard host
 * (`*.shop.example`). A request without an Origin header passes only `*`.
 */
export function originAllowed(app: PusherApp, origin: string | undefined): boolean {
  if (app.allowedOrigins.includes('*')) return true;
  if (!origin) return false;
  let hostname: string;
  try {
    hostname = new URL(origin).hostname;
  } catch {
    return false;
  }
  return app.allowedOrigins.some(
    (allowed) =>
      allowed === origin ||
      allowed === hostname ||
      (allowed.startsWith('*.') && hostname.endsWith(allowed.slice(1)) && hostname.length > allowed.length - 1),
  );
}
