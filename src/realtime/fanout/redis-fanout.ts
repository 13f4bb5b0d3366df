import type { Redis } from 'ioredis';
import { connectWithin, createRedisConnection, quit, reportOutages, type RedisConnectionOptions } from '../redis/redis-connection.js';
import { MediumUnavailableError, type Fanout, type FanoutHandler, type FanoutMessage } from './fanout.js';
import { decodeFanoutMessage, encodeFanoutMessage } from './fanout-codec.js';

export interface RedisFanoutOptions extends RedisConnectionOptions {
  /** Prefix of the pub/sub channel (and of every key of the cluster); default `storeflow:rt:`. */
  prefix?: string;
  /** Told about handler errors, undecodable messages and connection errors (log them). */
  onError?: (error: unknown) => void;
  /**
   * False for a node that only publishes (a worker without sockets): no subscriber
   * connection is opened and handlers never fire. Default true.
   */
  subscribe?: boolean;
}

/** The pub/sub channel of the cluster under `prefix` (cluster scripts publish on it too). */
export const fanoutChannelOf = (prefix = 'storeflow:rt:'): string => `${prefix}fanout`;

export interface RedisFanoutStats {
  /** Both connections are up and the subscription is in place. */
  connected: boolean;
  published: number;
  publishFailures: number;
  received: number;
  /** Messages on our channel that did not decode (skipped). */
  malformed: number;
}

/**
 * The fan-out over Redis pub/sub: one PUBLISH connection and one SUBSCRIBE connection per
 * node, one channel (`<prefix>fanout`) for every app, so the messages of one publisher keep
 * their order. Messages travel in fanout-codec's binary form.
 *
 * Delivery is at most once: Redis pub/sub keeps nothing for a node that is disconnected, and
 * `publish` rejects at once while the publisher is disconnected (no offline queue) or after
 * the command timeout if Redis stops answering. The subscriber reconnects and resubscribes
 * by itself. What is missed meanwhile is what clients catch up on from the event log.
 */
export class RedisFanout implements Fanout {
  readonly channel: string;
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly handlers = new Set<FanoutHandler>();
  private readonly onError: (error: unknown) => void;
  private readonly counts = { published: 0, publishFailures: 0, received: 0, malformed: 0 };
  private subscribed = false;
  private closed = false;
  private readyBefore = false;
  private readonly resubscribedHandlers = new Set<() => void>();
  private readonly subscribing: boolean;

  constructor(options: RedisFanoutOptions) {
    this.channel = fanoutChannelOf(options.prefix);
    this.onError = options.onError ?? (() => {});
    this.subscribing = options.subscribe ?? true;
    this.pub = createRedisConnection({ ...options, name: `${options.name ?? 'storeflow'}:pub` }, 'command');
    this.sub = createRedisConnection({ ...options, name: `${options.name ?? 'storeflow'}:sub` }, 'subscriber');
    for (const client of [this.pub, this.sub]) reportOutages(client, (e) => this.onError(e));
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.received(channel, message));
    this.sub.on('close', () => (this.subscribed = false));
    this.sub.on('ready', () => {
      // ioredis resubscribes on reconnect; `ready` comes after that.
      this.subscribed = true;
      if (this.readyBefore && this.resubscribedHandlers.size > 0) {
        // `ready` comes before ioredis' own SUBSCRIBE is answered: once this one is, the
        // subscription is in place and whatever is read after it is not missed.
        this.sub.subscribe(this.channel).then(
          () => {
            for (const handler of [...this.resubscribedHandlers]) {
              try {
                handler();
              } catch (error) {
                this.onError(error);
              }
            }
          },
          (error: unknown) => this.onError(error),
        );
      }
      this.readyBefore = true;
    });
  }

  /**
   * Connects both connections and subscribes. Resolves true when ready within `timeoutMs`;
   * false otherwise — the connections keep retrying, publish rejects until they are up.
   */
  async connect(timeoutMs = 5_000): Promise<boolean> {
    if (!this.subscribing) return connectWithin(this.pub, timeoutMs);
    const subscribing = this.sub
      .subscribe(this.channel)
      .then(() => (this.subscribed = true))
      .catch((e: unknown) => this.onError(e));
    const [pubReady] = await Promise.all([connectWithin(this.pub, timeoutMs), connectWithin(this.sub, timeoutMs)]);
    await Promise.race([subscribing, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    return pubReady && this.subscribed;
  }

  async publish(message: FanoutMessage): Promise<void> {
    if (this.closed) throw new Error('RedisFanout is closed');
    try {
      await this.pub.publish(this.channel, encodeFanoutMessage(message));
      this.counts.published += 1;
    } catch (error) {
      this.counts.publishFailures += 1;
      throw new MediumUnavailableError(error);
    }
  }

  onMessage(handler: FanoutHandler): () => void {
    const entry: FanoutHandler = (m) => handler(m);
    this.handlers.add(entry);
    return () => this.handlers.delete(entry);
  }

  /**
   * Called each time the subscriber connection is back after a drop: messages published
   * meanwhile never reached this node.
   */
  onResubscribed(handler: () => void): () => void {
    this.resubscribedHandlers.add(handler);
    return () => this.resubscribedHandlers.delete(handler);
  }

  stats(): RedisFanoutStats {
    return { connected: this.connected, ...this.counts };
  }

  get connected(): boolean {
    const pubReady = !this.closed && this.pub.status === 'ready';
    return this.subscribing ? pubReady && this.sub.status === 'ready' && this.subscribed : pubReady;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    await Promise.all([this.pub, this.sub].map((c) => quit(c)));
  }

  private received(channel: Buffer, bytes: Buffer): void {
    if (channel.toString('utf8') !== this.channel) return;
    let message: FanoutMessage;
    try {
      message = decodeFanoutMessage(bytes);
    } catch (error) {
      this.counts.malformed += 1;
      this.onError(error);
      return;
    }
    this.counts.received += 1;
    for (const handler of [...this.handlers]) {
      try {
        handler(message);
      } catch (error) {
        this.onError(error);
      }
    }
  }
}
