import type { AppClusterState } from '../cluster/cluster-state.js';
import type { PusherApp, RealtimeOccurrence } from '../contracts.js';
import { frames } from '../protocol/frames.js';
import type { ChannelKind } from './channel-name.js';

/** Anyone a channel can deliver to: one connection, by its socket id. */
export interface Subscriber {
  readonly socketId: string;
  send(bytes: Buffer): void;
}

/** A `pusher:subscribe`, plus who the connection signed in as (if it did). */
export interface SubscribeRequest {
  socketId: string;
  auth?: string | undefined;
  channelData?: string | undefined;
  userId?: string | undefined;
}

export interface ChannelContext {
  readonly app: PusherApp;
  report(o: RealtimeOccurrence): void;
  /** What the channel shares with the other nodes (the node itself, when alone). */
  readonly cluster: AppClusterState;
}

/**
 * One channel on this node and the local connections subscribed to it. Subclasses add one
 * concern each: who may join (authorize) and what joining means (presence members).
 * Subscribing twice from one socket is idempotent.
 */
export abstract class Channel {
  abstract readonly kind: ChannelKind;
  protected readonly subscribers = new Map<string, Subscriber>();

  constructor(
    readonly name: string,
    protected readonly ctx: ChannelContext,
  ) {}

  get subscriptionCount(): number {
    return this.subscribers.size;
  }

  has(socketId: string): boolean {
    return this.subscribers.has(socketId);
  }

  /** Subscriptions accepted but not yet confirmed (waiting for the cluster state). */
  get pending(): number {
    return 0;
  }

  /** Whether clients may trigger client-* events here (the app must allow them as well). */
  get acceptsClientEvents(): boolean {
    return false;
  }

  /**
   * Authorises and adds the subscriber; returns its subscription_succeeded frame. Throws
   * SubscriptionError. A presence channel in a cluster answers with a promise instead (it
   * rejects with SubscriptionError, or SubscriptionAbandoned when the subscriber left first).
   */
  subscribe(sub: Subscriber, req: SubscribeRequest): Buffer | Promise<Buffer> {
    this.authorize(req);
    this.subscribers.set(sub.socketId, sub);
    return frames.subscriptionSucceeded(this.name);
  }

  /** False when the subscriber was not subscribed. */
  unsubscribe(sub: Subscriber): boolean {
    return this.subscribers.delete(sub.socketId);
  }

  /** Writes the same bytes to every subscriber but one. */
  broadcast(bytes: Buffer, exceptSocketId?: string): void {
    for (const [socketId, sub] of this.subscribers) {
      if (socketId !== exceptSocketId) sub.send(bytes);
    }
  }

  /** The user_id stamped on client events (presence channels only). */
  userIdOf(_socketId: string): string | undefined {
    return undefined;
  }

  protected authorize(_req: SubscribeRequest): void {}
}
