import type { CatchUp, FeedEvent } from './live-feed.js';

/**
 * Catch-up reads over StoreFlow's HTTP API, for LiveFeed:
 * - staff: `GET /api/stores/:storeId/events?after=` (session cookie or bearer token);
 * - customers: `GET /api/track/:publicId/events?after=` (public).
 * Both answer `{events: [{name, checkpoint, payload}], next, has_more}`; an event's
 * checkpoint is the `position` its broadcast carries, so it is copied into the payload and
 * live and caught-up events look alike.
 */
export interface HttpCatchUpOptions {
  /** Origin of the API; '' (default) is the page's own origin. */
  baseUrl?: string;
  /** Extra headers per request (Node callers: a Cookie or Authorization header). */
  headers?: () => Record<string, string>;
  /** Events per request (the server caps it at 1000). */
  limit?: number;
  fetch?: typeof fetch;
}

export class CatchUpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'CatchUpError';
  }
}

interface EventsPage {
  events: Array<{ name: string; checkpoint: string; payload: Record<string, unknown> }>;
  next: string;
  has_more: boolean;
}

function httpCatchUp(path: string, options: HttpCatchUpOptions): CatchUp {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  return async (after = '0.0') => {
    const query = new URLSearchParams({ after, limit: String(options.limit ?? 200) });
    const res = await doFetch(`${options.baseUrl ?? ''}${path}?${query}`, {
      headers: { accept: 'application/json', ...options.headers?.() },
      credentials: 'same-origin',
    });
    const body = (await res.json().catch(() => null)) as (EventsPage & { error?: { code: string; message: string } }) | null;
    if (!res.ok || !body || !Array.isArray(body.events)) {
      throw new CatchUpError(res.status, body?.error?.code, body?.error?.message ?? `catch-up read failed with HTTP ${res.status}`);
    }
    const events: FeedEvent[] = body.events.map((e) => ({
      name: e.name,
      position: e.checkpoint,
      payload: { ...e.payload, position: e.checkpoint },
    }));
    return { events, checkpoint: body.next, hasMore: body.has_more };
  };
}

export function storeEventsCatchUp(storeId: number, options: HttpCatchUpOptions = {}): CatchUp {
  return httpCatchUp(`/api/stores/${storeId}/events`, options);
}

export function trackingEventsCatchUp(publicId: string, options: HttpCatchUpOptions = {}): CatchUp {
  return httpCatchUp(`/api/track/${encodeURIComponent(publicId)}/events`, options);
}
