/**
 * The contract types of LiveFeed (live-feed.ts): what it delivers, what it reads, and the
 * small part of pusher-js (or laravel-echo) it needs, so a real client fits and a test can
 * hand it a stand-in.
 */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline';

export interface FeedEvent<P extends Record<string, unknown> = Record<string, unknown>> {
  name: string;
  /** The event's log checkpoint `"<xid>.<pos>"`. */
  position: string;
  /** The event payload; carries `position` too, as broadcasts do. */
  payload: P;
}

export interface CatchUpPage {
  /** Events after the requested position, in log order. */
  events: FeedEvent[];
  /** Where the next read resumes (the last event's position, or the same one when nothing came). */
  checkpoint: string;
  /** True when the read stopped at its limit and more events follow. */
  hasMore?: boolean;
}

export type CatchUp = (after?: string) => Promise<CatchUpPage>;

/** What the feed needs of a pusher-js client (a real `Pusher` fits). */
export interface PusherLike {
  connection: {
    state: string;
    bind(event: string, callback: (change: { previous: string; current: string }) => void): unknown;
    unbind(event?: string, callback?: (change: { previous: string; current: string }) => void): unknown;
  };
  subscribe(channel: string): PusherChannelLike;
  unsubscribe(channel: string): void;
  channel(name: string): PusherChannelLike | undefined;
}

export interface PusherChannelLike {
  subscribed?: boolean;
  bind(event: string, callback: (data: any) => void): unknown;
  unbind(event?: string, callback?: (data: any) => void): unknown;
}

/** A laravel-echo instance with the pusher broadcaster fits too. */
export interface EchoLike {
  connector: { pusher: PusherLike };
}

export interface LiveFeedOptions {
  /** The channel as on the wire: `private-store.1.orders`, `customer.<publicId>.order`. */
  channel: string;
  /** Event names to listen to (the log names; Echo would write `.Name`). */
  events: readonly string[];
  catchUp: CatchUp;
  onEvent: (event: FeedEvent, origin: 'live' | 'catch-up') => void;
  onState?: (state: ConnectionState) => void;
  /** The cursor moved: everything up to `position` has been delivered. */
  onPosition?: (position: string) => void;
  /** A failed catch-up read, a refused subscription or a malformed event. Never thrown. */
  onError?: (error: unknown) => void;
  /** A position whose events the caller already has (e.g. from the page it rendered). */
  after?: string;
  /** Polling interval while the socket is down; default 3000 ms. */
  pollIntervalMs?: number;
  /** Catch-up this long after the last live event; default 1500 ms, 0 = never. */
  settleMs?: number;
}

export interface FeedStats {
  live: number;
  caughtUp: number;
  duplicates: number;
  reads: number;
}
