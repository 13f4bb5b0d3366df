import type { AppRegistry, PusherApp, RealtimeControl, RealtimeOccurrence } from '../contracts.js';
import type { Fanout } from '../fanout/fanout.js';

/**
 * The state a channel shares with the rest of the cluster: how many connections subscribe
 * to it anywhere (channel_occupied / channel_vacated / subscription_count), who its presence
 * members are anywhere, and the last event of a cache channel. The protocol code on a node
 * keeps its own connections and calls this port when they change; two adapters answer:
 *
 * - LocalClusterState: the node is the whole cluster. Everything is answered synchronously
 *   from this node's channels (no promises), so a single node behaves exactly as it always
 *   did.
 * - RedisClusterState: the totals live in Redis (per node, so a dead node's share can be
 *   taken away), answers are asynchronous, and member_added / member_removed /
 *   subscription_count reach the other nodes through the fan-out.
 *
 * Contract, for both:
 * - occurrences (webhooks) are reported once per cluster, by the node that saw the change;
 * - member_added goes to every subscriber of the channel anywhere but the joining connection,
 *   on a user's first connection anywhere; member_removed when their last one anywhere left;
 * - a refused join (presence channel full) rejects with PresenceFullError and changes nothing.
 */
export type MaybePromise<T> = T | Promise<T>;

/** Presence members: user id → user_info. */
export type Members = ReadonlyMap<string, unknown>;

/** What the cluster state may do with a local channel. */
export interface LocalChannel {
  readonly kind: string;
  readonly subscriptionCount: number;
  broadcast(bytes: Buffer, exceptSocketId?: string): void;
}

/** One app's channels on this node, as the cluster state sees them. */
export interface LocalChannels {
  readonly app: PusherApp;
  find(name: string): LocalChannel | undefined;
  report(o: RealtimeOccurrence): void;
}

export interface CachedEvent {
  event: string;
  data: string;
}

/** The cluster state of one app, for its channels on this node. */
export interface AppClusterState {
  /**
   * This node's subscriber count of `channel` went from `before` to `after`. User channels
   * (`#server-to-user-*`) are counted but report nothing (no webhooks, no channel list).
   */
  subscriptionsChanged(channel: string, before: number, after: number): void;
  /**
   * A user's first connection on this node joins a presence channel (not yet a subscriber).
   * Announces member_added if they are new to the cluster. Resolves to the members held
   * elsewhere too (undefined: this node's members are all there are).
   */
  memberJoined(channel: string, userId: string, info: unknown, socketId: string): MaybePromise<Members | undefined>;
  /** A user's last connection on this node left a presence channel. */
  memberLeft(channel: string, userId: string): void;
  /** The members of a presence channel cluster-wide (undefined: this node's are all there are). */
  members(channel: string): MaybePromise<Members | undefined>;
  /** A cache channel's last event when this node has none of its own (undefined: none). */
  recall(channel: string): MaybePromise<CachedEvent | undefined>;
}

/** What the cluster state sees of this node's connections (for resync and reaping). */
export interface NodeView {
  /** The apps that have state on this node and, per app, its channels. */
  appsWithState(): Iterable<{ app: PusherApp; channels: Iterable<{ name: string; kind: string; subscriptionCount: number }> }>;
  /** This node's presence members of one channel (user id → user_info). */
  localMembers(appId: string, channel: string): Members;
  /** The app's channels on this node (for broadcasting and reporting). */
  channelsOf(appId: string): LocalChannels | undefined;
}

export interface ClusterState {
  forApp(local: LocalChannels): AppClusterState;
  /**
   * The RealtimeControl (HTTP API, in-process publishers) that answers cluster-wide; absent
   * when this node's own state is the answer (LocalRealtimeControl).
   */
  control?(apps: AppRegistry, fanout: Fanout): RealtimeControl;
  /** Joins the cluster (registers the node, starts heartbeats); called by the server's start(). */
  start(node: NodeView): Promise<void>;
  /** Leaves it: what this node still holds is removed (with its events) at once. */
  stop(): Promise<void>;
}
