/**
 * The contracts between the parts of the real-time server (shared by the WebSocket side, the
 * signed HTTP API and the webhook sender). src/realtime is a generic Pusher-protocol server:
 * nothing here knows about orders or StoreFlow.
 */

/** One Pusher app: credentials and limits. */
export interface PusherApp {
  id: string;
  key: string;
  secret: string;
  enabled: boolean;
  clientEventsEnabled: boolean;
  /** 0 = unlimited */
  maxConnections: number;
  /** Largest accepted WebSocket frame / event payload, in bytes. */
  maxMessageBytes: number;
  /** Origins allowed to open a WebSocket ('*' = any). */
  allowedOrigins: readonly string[];
  activityTimeoutSeconds: number;
  webhook: { url: string; events: readonly WebhookEventName[] } | null;
  /** Sends pusher_internal:subscription_count to non-presence channels (opt-in). */
  subscriptionCountEnabled: boolean;
}

export type WebhookEventName =
  | 'channel_occupied'
  | 'channel_vacated'
  | 'member_added'
  | 'member_removed'
  | 'client_event'
  | 'cache_miss'
  | 'subscription_count';

/** A message published to channels (from the HTTP API or an in-process broadcaster). */
export interface Publication {
  appId: string;
  channels: readonly string[];
  event: string;
  /** Relayed byte-for-byte to clients as the frame's `data` string. */
  data: string;
  /** Excluded from delivery cluster-wide (Echo's toOthers / X-Socket-ID). */
  excludeSocketId?: string | undefined;
}

export interface ChannelInfo {
  occupied: boolean;
  subscriptionCount: number;
  /** Presence channels only: distinct users. */
  userCount?: number;
  /** Cache channels only: the last event published over HTTP, if any. */
  cache?: { event: string; data: string } | undefined;
}

/**
 * What the HTTP API and in-process publishers need from the real-time server. Implemented
 * by the local (single node) server; a clustered implementation (Redis) answers the same
 * questions cluster-wide.
 */
export interface RealtimeControl {
  apps: AppRegistry;
  publish(p: Publication): Promise<void>;
  channels(appId: string, filterByPrefix?: string): Promise<Map<string, ChannelInfo>>;
  channel(appId: string, name: string): Promise<ChannelInfo>;
  /** Presence channel members: distinct user ids. */
  users(appId: string, channel: string): Promise<string[]>;
  terminateUserConnections(appId: string, userId: string): Promise<void>;
}

export interface AppRegistry {
  byId(id: string): PusherApp | undefined;
  byKey(key: string): PusherApp | undefined;
  all(): readonly PusherApp[];
}

/** A webhook-worthy occurrence on the WebSocket side, before batching and signing. */
export type RealtimeOccurrence =
  | { name: 'channel_occupied' | 'channel_vacated'; channel: string }
  | { name: 'member_added' | 'member_removed'; channel: string; user_id: string }
  | { name: 'client_event'; channel: string; event: string; data: string; socket_id: string; user_id?: string }
  | { name: 'cache_miss'; channel: string }
  | { name: 'subscription_count'; channel: string; subscription_count: number };

/**
 * The WebSocket side reports occurrences here; the webhook sender filters them by the app's
 * configured events, holds back vacated/member_removed for a few seconds (dropping them if
 * the channel or member came back), batches, signs and retries.
 */
export interface OccurrenceSink {
  occurred(appId: string, o: RealtimeOccurrence): void;
}
