import type { ConnectionState, EchoLike, FeedEvent, FeedStats, LiveFeedOptions, PusherChannelLike, PusherLike } from './feed-types.js';
import { comparePositions, isPosition, START_POSITION } from './positions.js';

export type * from './feed-types.js';

/**
 * LiveFeed: one channel's events, live over a Pusher connection and complete from the log.
 * Framework-free (no DOM, no Vue): the screens use it, and so can Node tests, a mobile app
 * or a partner's dashboard.
 *
 *   const feed = new LiveFeed(pusherOrEcho, {
 *     channel: 'private-store.1.orders',                 // the wire name
 *     events: ['OrderCreated', 'OrderStatusUpdated', 'ShippingStatusUpdated'],
 *     catchUp: storeEventsCatchUp({ storeId: 1 }),       // (after?) => {events, checkpoint, hasMore?}
 *     onEvent: (e, origin) => board.apply(e),            // each event once
 *     onState: (s) => indicator.show(s),                 // connecting | connected | reconnecting | offline
 *     onPosition: (p) => save(p),                        // optional: the cursor moved (all up to p delivered)
 *   });
 *   feed.start(); … feed.stop();
 *
 * The contract (README "Real-time"; ADR 0007), and how this keeps it:
 * - Subscribe first, then catch up: `start()` subscribes, then reads the log after the last
 *   position; every (re)subscription succeeding (pusher-js resubscribes after a reconnect)
 *   reads it again, so what was broadcast while the socket was away is read instead.
 * - Each event reaches `onEvent` at most once: an event at or before the cursor, or whose
 *   position was already delivered, is dropped. Positions are log checkpoints compared as
 *   the server orders them (positions.ts).
 * - The cursor only moves with catch-up reads, which the server answers gap-safely in log
 *   order, so "everything up to the cursor was delivered" always holds. Live events are
 *   delivered at once and remembered until the cursor passes them; a short catch-up after a
 *   burst of live events (`settleMs`) moves the cursor and fills any hole a live stream can
 *   leave (an event the broadcaster skipped as too old, a frame lost with a socket).
 * - Delivery is in log order across a reconnect: from start, and from the moment the socket
 *   is lost, live events are held back until a catch-up read that began after the channel was
 *   (re)subscribed has delivered what was missed; then the held ones follow, by position. If
 *   that read fails, the held events are delivered anyway (live beats ordered).
 * - While the connection is not up, the feed polls the catch-up read every
 *   `pollIntervalMs`, so a screen keeps working without WebSockets.
 * - Catch-up reads never overlap; a failing one is reported to `onError` and retried by the
 *   next trigger (poll, subscription, settle or `refresh()`).
 *
 * Events are delivered in log order within one catch-up read and in broadcast order live;
 * a consumer that keeps state per entity should still apply an update only when its
 * `version` is newer than what it holds (order events carry the order version).
 */

export class LiveFeed {
  private readonly pusher: PusherLike;
  private readonly names: ReadonlySet<string>;
  private cursor: string;
  /** Positions delivered beyond the cursor. */
  private readonly seen = new Set<string>();
  private current: ConnectionState = 'connecting';
  private everConnected = false;
  private started = false;
  private stopped = false;
  private ownsSubscription = false;
  private channelHandle: PusherChannelLike | undefined;
  private running: Promise<void> | null = null;
  private wanted = false;
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private settleTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly listeners = new Map<string, (data: any) => void>();
  /** True until a read begun after the latest subscription has caught up: hold live events. */
  private gap = true;
  /** Subscription successes so far, and their count when the gap last opened. */
  private subscriptions = 0;
  private gapOpenedAt = 0;
  private readonly held: FeedEvent[] = [];
  readonly stats: FeedStats = { live: 0, caughtUp: 0, duplicates: 0, reads: 0 };

  constructor(source: PusherLike | EchoLike, private readonly options: LiveFeedOptions) {
    this.pusher = 'connector' in source ? source.connector.pusher : source;
    this.names = new Set(options.events);
    this.cursor = options.after ?? START_POSITION;
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** The last position read from the log: everything up to it has been delivered. */
  get position(): string {
    return this.cursor;
  }

  /**
   * True after start and after every lost socket until a catch-up read begun after the
   * (re)subscription has read the gap; live events arriving meanwhile are held, then
   * delivered in log order (or dropped when the read already delivered them).
   */
  get catchingUp(): boolean {
    return this.gap;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.pusher.connection.bind('state_change', this.onStateChange);
    this.setState(this.pusher.connection.state);
    const already = this.pusher.channel(this.options.channel)?.subscribed === true;
    this.ownsSubscription = !already;
    // Someone else's subscription to the channel is live already: no success event will come.
    if (already) this.subscriptions++;
    const channel = this.pusher.subscribe(this.options.channel);
    this.channelHandle = channel;
    for (const name of this.names) {
      const listener = (data: unknown) => this.onLive(name, data);
      this.listeners.set(name, listener);
      channel.bind(name, listener);
    }
    this.listeners.set('pusher:subscription_succeeded', this.onSubscribed);
    channel.bind('pusher:subscription_succeeded', this.onSubscribed);
    this.listeners.set('pusher:subscription_error', this.onSubscriptionError);
    channel.bind('pusher:subscription_error', this.onSubscriptionError);
    void this.refresh();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.settleTimer);
    this.held.length = 0;
    this.pusher.connection.unbind('state_change', this.onStateChange);
    for (const [event, listener] of this.listeners) this.channelHandle?.unbind(event, listener);
    this.listeners.clear();
    if (this.ownsSubscription) this.pusher.unsubscribe(this.options.channel);
  }

  /** Reads the log after the cursor now (and again if asked meanwhile); never rejects. */
  refresh(): Promise<void> {
    this.wanted = true;
    if (!this.running) {
      this.running = this.drain().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private async drain(): Promise<void> {
    while (this.wanted && !this.stopped) {
      this.wanted = false;
      const subscription = this.subscriptions;
      try {
        await this.readToEnd();
        const readAfterSubscribing =
          subscription > this.gapOpenedAt && subscription === this.subscriptions && this.current === 'connected';
        if (this.gap && readAfterSubscribing) {
          this.gap = false;
          this.releaseHeld();
        }
      } catch (e) {
        this.options.onError?.(e);
        this.releaseHeld();
      }
    }
  }

  private async readToEnd(): Promise<void> {
    for (let pages = 0; pages < 1000 && !this.stopped; pages++) {
      this.stats.reads++;
      const from = this.cursor;
      const page = await this.options.catchUp(from);
      if (this.stopped) return;
      for (const event of page.events) {
        if (this.names.has(event.name)) this.deliver(event, 'catch-up');
      }
      if (isPosition(page.checkpoint) && comparePositions(page.checkpoint, this.cursor) > 0) this.advance(page.checkpoint);
      if (!page.hasMore || this.cursor === from) return;
    }
  }

  private advance(to: string): void {
    this.cursor = to;
    for (const p of this.seen) if (comparePositions(p, to) <= 0) this.seen.delete(p);
    this.options.onPosition?.(to);
  }

  private deliver(event: FeedEvent, origin: 'live' | 'catch-up'): void {
    if (!isPosition(event.position)) {
      this.options.onError?.(new Error(`${event.name} without a valid position: ${String(event.position)}`));
      return;
    }
    if (comparePositions(event.position, this.cursor) <= 0 || this.seen.has(event.position)) {
      this.stats.duplicates++;
      return;
    }
    this.seen.add(event.position);
    if (origin === 'live') this.stats.live++;
    else this.stats.caughtUp++;
    this.options.onEvent(event, origin);
  }

  private releaseHeld(): void {
    const held = this.held.splice(0).filter((e) => isPosition(e.position));
    held.sort((a, b) => comparePositions(a.position, b.position));
    for (const event of held) this.deliver(event, 'live');
  }

  private onLive(name: string, data: unknown): void {
    if (this.stopped) return;
    const payload = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
    const event = { name, position: String(payload.position), payload };
    if (this.gap && isPosition(event.position)) {
      this.held.push(event);
      return;
    }
    this.deliver(event, 'live');
    const settle = this.options.settleMs ?? 1500;
    if (settle > 0) {
      clearTimeout(this.settleTimer);
      this.settleTimer = setTimeout(() => void this.refresh(), settle);
    }
  }

  private readonly onSubscribed = () => {
    this.subscriptions++;
    void this.refresh();
  };

  private readonly onSubscriptionError = (error: unknown) => {
    this.options.onError?.(Object.assign(new Error(`subscription to ${this.options.channel} refused`), { cause: error }));
  };

  private readonly onStateChange = (change: { current: string }) => {
    this.setState(change.current);
  };

  private setState(pusherState: string): void {
    if (this.stopped) return;
    if (pusherState === 'connected') this.everConnected = true;
    const next: ConnectionState =
      pusherState === 'connected'
        ? 'connected'
        : pusherState === 'connecting' || pusherState === 'initialized'
          ? this.everConnected ? 'reconnecting' : 'connecting'
          : 'offline';
    if (next !== 'connected') {
      this.gap = true;
      this.gapOpenedAt = this.subscriptions;
    }
    if (next === 'connected') {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    } else if (this.pollTimer === undefined) {
      this.pollTimer = setInterval(() => void this.refresh(), this.options.pollIntervalMs ?? 3000);
    }
    if (next !== this.current) {
      this.current = next;
      this.options.onState?.(next);
    }
  }
}
