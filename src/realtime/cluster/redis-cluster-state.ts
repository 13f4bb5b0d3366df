import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { ReplyError, type Redis } from 'ioredis';
import { parseChannelName } from '../channels/channel-name.js';
import type { AppRegistry, RealtimeControl } from '../contracts.js';
import type { Fanout, FanoutMessage } from '../fanout/fanout.js';
import { encodeFanoutMessage } from '../fanout/fanout-codec.js';
import { fanoutChannelOf, RedisFanout } from '../fanout/redis-fanout.js';
import { frames } from '../protocol/frames.js';
import { connectWithin, createRedisConnection, quit, REDIS_RECONNECT_MAX_MS, reportOutages, type RedisConnectionOptions } from '../redis/redis-connection.js';
import type { AppClusterState, ClusterState, LocalChannels, NodeView } from './cluster-state.js';
import { membersOf, RedisAppState, type RedisClusterContext } from './redis-app-state.js';
import { ClusterKeys } from './redis-cluster-keys.js';
import { ClusterScripts } from './redis-cluster-scripts.js';
import { RedisRealtimeControl } from './redis-realtime-control.js';
import { resyncNode } from './redis-resync.js';

export interface RedisClusterStateOptions extends RedisConnectionOptions {
  /**
   * The fan-out of the same cluster (the counts changed by a reap travel on it). A
   * RedisFanout with the same prefix: the scripts publish member and count messages on its
   * channel themselves.
   */
  fanout: Fanout;
  /** Key prefix; the same as the fan-out's. Default `storeflow:rt:`. */
  prefix?: string;
  /** Unique per process; default `<host>:<pid>:<random>`. */
  nodeId?: string;
  /** How often the node heartbeats and looks for dead nodes to reap (default 1 000 ms). */
  heartbeatMs?: number;
  /** A node that has not heartbeaten for this long is dead (default 5 000 ms). */
  nodeTtlMs?: number;
  /** How long a cache channel's last event is kept (default 30 minutes, as Pusher). */
  cacheTtlMs?: number;
  onError?: (error: unknown) => void;
}

export const CLUSTER_DEFAULTS = { heartbeatMs: 1_000, nodeTtlMs: 5_000, cacheTtlMs: 30 * 60_000 } as const;

export interface RedisClusterStats {
  connected: boolean;
  /** Redis steps of the cluster state that failed (the node resynchronises after). */
  failures: number;
  /** Dead nodes this node reaped. */
  reaped: number;
  /** Times this node re-asserted its share (after an outage, or after being reaped alive). */
  resyncs: number;
}

/**
 * The cluster state in Redis (data model: redis-cluster-keys.ts; atomic steps:
 * redis-cluster-scripts.ts). Liveness: every node heartbeats every `heartbeatMs` into the
 * `nodes` sorted set with an expiry `nodeTtlMs` ahead (Redis clock); on the same tick it
 * reaps expired nodes — one RELEASE script per dead node, atomic, so exactly one survivor
 * takes each — and sends the member_removed, channel_vacated and subscription counts the
 * dead node would have. A node SIGKILLed is thus gone from every count and member list
 * within nodeTtlMs + heartbeatMs (6 s by default; documented bound: 10 s). A node that
 * stops gracefully releases its share at once. A node that finds itself unregistered (it
 * was reaped while cut off, or Redis restarted empty) or that saw a Redis step fail
 * re-asserts its share from its live connections.
 */
export class RedisClusterState implements ClusterState {
  readonly nodeId: string;
  readonly keys: ClusterKeys;
  private readonly fanoutChannel: string;
  private readonly redis: Redis;
  private readonly scripts: ClusterScripts;
  private readonly fanout: Fanout;
  private readonly onError: (error: unknown) => void;
  private readonly heartbeatMs: number;
  private readonly nodeTtlMs: number;
  readonly cacheTtlMs: number;
  private readonly apps = new Set<RedisAppState>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly counters = { failures: 0, reaped: 0, resyncs: 0 };
  private node: NodeView | undefined;
  /**
   * Per local presence channel, the cluster's members as this node's subscribers were last
   * told (JOIN replies, then member messages): after the subscriber connection was down,
   * the difference from Redis is what they missed. At most one per local presence channel.
   */
  private readonly views = new Map<string, { appId: string; channel: string; users: Set<string> }>();
  private refreshPending = false;
  private unlisten: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private registered = false;
  /** Since when (performance.now) this node's heartbeats have succeeded without a break. */
  private healthySince: number | undefined;
  private dirty = false;
  private stopped = false;
  private readonly ctx: RedisClusterContext;

  constructor(options: RedisClusterStateOptions) {
    this.nodeId = options.nodeId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.keys = new ClusterKeys(options.prefix ?? 'storeflow:rt:');
    this.fanoutChannel = fanoutChannelOf(this.keys.prefix);
    if (options.fanout instanceof RedisFanout && options.fanout.channel !== this.fanoutChannel) {
      // The presence and count scripts publish on the channel of this prefix themselves.
      throw new Error(`RedisClusterState prefix ${this.keys.prefix} differs from its RedisFanout's (channel ${options.fanout.channel})`);
    }
    this.fanout = options.fanout;
    this.onError = options.onError ?? (() => {});
    this.heartbeatMs = options.heartbeatMs ?? CLUSTER_DEFAULTS.heartbeatMs;
    this.nodeTtlMs = options.nodeTtlMs ?? CLUSTER_DEFAULTS.nodeTtlMs;
    this.cacheTtlMs = options.cacheTtlMs ?? CLUSTER_DEFAULTS.cacheTtlMs;
    this.redis = createRedisConnection({ ...options, name: `${options.name ?? 'storeflow'}:state` }, 'command');
    reportOutages(this.redis, (e) => this.onError(e));
    this.redis.on('close', () => (this.healthySince = undefined));
    this.scripts = new ClusterScripts(this.redis, this.keys.prefix);
    this.ctx = {
      nodeId: this.nodeId,
      nodeTtlMs: this.nodeTtlMs,
      keys: this.keys,
      scripts: this.scripts,
      redis: this.redis,
      counted: (appId, channel, before, after, published) => this.counted(appId, channel, before, after, published),
      countMessage: (app, channel) => {
        const kind = parseChannelName(channel)?.kind;
        if (!app.subscriptionCountEnabled || kind === undefined || kind === 'presence' || kind === 'user') return ['', ''];
        const whole = encodeFanoutMessage({ kind: 'count', appId: app.id, channel, count: 0 });
        return [this.fanoutChannel, whole.subarray(0, whole.length - 4)];
      },
      memberMessage: (appId, channel, change, userId, info, exclude) => [
        this.fanoutChannel,
        encodeFanoutMessage({ kind: 'member', appId, channel, change, userId, userInfo: this.userInfo(change, info), excludeSocketId: exclude }),
      ],
      memberChanged: (appId, channel, change, userId) => this.reportMember(appId, channel, change, userId),
      viewed: (appId, channel, members) => {
        const key = `${appId}\u0000${channel}`;
        if (!this.views.has(key)) this.views.set(key, { appId, channel, users: new Set(members.keys()) });
      },
      failed: (error) => this.failed(error),
      track: (work) => this.track(work),
    };
  }

  forApp(local: LocalChannels): AppClusterState {
    const state = new RedisAppState(local, this.ctx);
    this.apps.add(state);
    return state;
  }

  control(apps: AppRegistry, fanout: Fanout): RealtimeControl {
    return new RedisRealtimeControl(apps, fanout, this.redis, this.keys, this.cacheTtlMs);
  }

  get connected(): boolean {
    return !this.stopped && this.redis.status === 'ready';
  }

  /** PING on the state's connection (rejects at once while disconnected). */
  ping(): Promise<string> {
    return this.redis.ping();
  }

  stats(): RedisClusterStats {
    return { connected: this.connected, ...this.counters };
  }

  /** Connects (bounded); false when Redis did not answer in time (it keeps trying). */
  connect(timeoutMs = 5_000): Promise<boolean> {
    return connectWithin(this.redis, timeoutMs);
  }

  /** Registers the node (first heartbeat) and starts the heartbeat/reaper loop. */
  async start(node: NodeView): Promise<void> {
    this.node = node;
    this.stopped = false;
    this.unlisten.push(this.fanout.onMessage((m) => this.apply(m)));
    if (this.fanout instanceof RedisFanout) this.unlisten.push(this.fanout.onResubscribed(() => void this.refreshViews()));
    await connectWithin(this.redis, 5_000);
    this.timer = setInterval(() => void this.tick(), this.heartbeatMs);
    this.timer.unref();
    await this.tick();
  }

  /** Waits for steps in flight, then releases this node's share (with its events) and disconnects. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    for (const off of this.unlisten.splice(0)) off();
    clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all([...this.apps].map((app) => app.flush()));
    await Promise.allSettled([...this.inFlight]);
    try {
      if (this.redis.status === 'ready') await this.release(this.nodeId);
    } catch (error) {
      this.onError(error);
    }
    this.stopped = true;
    await quit(this.redis);
  }

  /**
   * Goes away as a crash would (for failure drills and tests): heartbeats stop and the
   * connection drops, nothing is released; the other nodes reap this node once it expires.
   */
  abandon(): void {
    for (const off of this.unlisten.splice(0)) off();
    clearInterval(this.timer);
    this.timer = undefined;
    this.stopped = true;
    this.redis.disconnect();
  }

  /**
   * One heartbeat, then a resync if needed, then reaping (at most 10 dead nodes a tick) —
   * only once this node's own heartbeats have gone through for `reapGraceMs` without a
   * break. A registration that expired while this node could not reach Redis says nothing
   * about that node: when Redis comes back from an outage longer than the TTL with its data
   * (persistence, a promoted replica) every node's registration has expired, and the first
   * node back would otherwise reap all the live others — member_removed to every client,
   * channel_vacated webhooks, then everything joined and occupied again. Every live node is
   * back within the reconnect backoff and heartbeats within a TTL of that.
   */
  private tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.ticking ??= (async () => {
      try {
        const known = await this.track(this.scripts.run('heartbeat', this.nodeId, this.nodeTtlMs));
        this.healthySince ??= performance.now();
        if ((known !== 1 && this.registered) || this.dirty) await this.resync();
        this.registered = true;
        if (this.refreshPending) await this.refreshViews();
        for (const [key, view] of this.views) if (this.node?.channelsOf(view.appId)?.find(view.channel)?.kind !== 'presence') this.views.delete(key);
        if (this.healthySince === undefined || performance.now() - this.healthySince < this.reapGraceMs) return;
        for (let i = 0; i < 10 && (await this.release('')); i += 1) this.counters.reaped += 1;
      } catch (error) {
        this.failed(error);
      } finally {
        this.ticking = undefined;
      }
    })();
    return this.ticking;
  }

  /** How long this node's heartbeats must have gone through before it reaps anyone. */
  private get reapGraceMs(): number {
    return this.nodeTtlMs + REDIS_RECONNECT_MAX_MS;
  }

  private async resync(): Promise<void> {
    if (!this.node) return;
    this.dirty = false;
    this.counters.resyncs += 1;
    await resyncNode(this.node, this.ctx, this.redis);
    const node = this.node;
    for (const app of this.apps) {
      await app.reannounce((channel) => node.localMembers(app.appId, channel)).catch((error: unknown) => this.failed(error));
    }
  }

  /** Runs RELEASE for `node` ('' = any expired node); false when there was nothing to release. */
  private async release(node: string): Promise<boolean> {
    const reply = await this.track(this.scripts.run('release', node, this.fanoutChannel));
    if (!Array.isArray(reply) || reply.length < 2 || !Array.isArray(reply[1])) return false;
    for (const item of reply[1] as unknown[]) {
      if (!Array.isArray(item)) continue;
      const [kind, appId, channel, a, b] = item as unknown[];
      if (typeof appId !== 'string' || typeof channel !== 'string') continue;
      if (kind === 'c') this.counted(appId, channel, Number(a), Number(b));
      // Published by the script already.
      if (kind === 'p' && typeof a === 'string') this.reportMember(appId, channel, 'removed', a);
    }
    return true;
  }

  private counted(appId: string, channel: string, before: number, after: number, published = false): void {
    const local = this.node?.channelsOf(appId);
    const kind = parseChannelName(channel)?.kind;
    if (!local || before === after || kind === 'user') return;
    if (before <= 0 && after > 0) local.report({ name: 'channel_occupied', channel });
    if (after <= 0) {
      local.report({ name: 'channel_vacated', channel });
      return;
    }
    if (kind === 'presence') return;
    local.report({ name: 'subscription_count', channel, subscription_count: after });
    if (!local.app.subscriptionCountEnabled || published) return;
    this.fanout.publish({ kind: 'count', appId, channel, count: after }).catch((error: unknown) => {
      this.onError(error);
      local.find(channel)?.broadcast(frames.subscriptionCount(channel, after));
    });
  }

  /** A member message from the fan-out: the subscribers of that channel here were told. */
  private apply(m: FanoutMessage): void {
    if (m.kind !== 'member') return;
    const view = this.views.get(`${m.appId}\u0000${m.channel}`);
    if (m.change === 'added') view?.users.add(m.userId);
    else view?.users.delete(m.userId);
  }

  /**
   * The subscriber connection is back: tell this node's presence subscribers about members
   * who joined or left the cluster while it was down (no webhooks: the deciding node sent
   * them), and forget the views of channels no longer here.
   */
  private async refreshViews(): Promise<void> {
    this.refreshPending = false;
    for (const [key, view] of [...this.views]) {
      const channel = this.node?.channelsOf(view.appId)?.find(view.channel);
      if (!this.node || channel?.kind !== 'presence') {
        this.views.delete(key);
        continue;
      }
      let cluster: Map<string, unknown>;
      try {
        cluster = membersOf(Object.entries(await this.track(this.redis.hgetall(this.keys.presenceInfo(view.appId, view.channel)))).flat());
      } catch (error) {
        this.failed(error);
        this.refreshPending = true;
        return;
      }
      const local = this.node.localMembers(view.appId, view.channel);
      for (const [userId, info] of cluster) if (!view.users.has(userId)) channel.broadcast(frames.memberAdded(view.channel, userId, info));
      for (const userId of view.users) if (!cluster.has(userId) && !local.has(userId)) channel.broadcast(frames.memberRemoved(view.channel, userId));
      view.users = new Set([...cluster.keys(), ...local.keys()]);
    }
  }

  private reportMember(appId: string, channel: string, change: 'added' | 'removed', userId: string): void {
    for (const app of this.apps) if (app.appId === appId && app.reportedAlready(change, channel, userId)) return;
    this.node?.channelsOf(appId)?.report({ name: change === 'added' ? 'member_added' : 'member_removed', channel, user_id: userId });
  }

  private userInfo(change: 'added' | 'removed', info: unknown): string | undefined {
    return change === 'added' ? JSON.stringify(info ?? {}) : undefined;
  }

  /**
   * A Redis step failed. Redis refusing it (a reply error: damaged or foreign data under our
   * keys) is reported and skipped — resynchronising would not mend it; anything else (no
   * connection, timeout) means Redis may have missed this node's changes: resync when back.
   */
  private failed(error: unknown): void {
    this.counters.failures += 1;
    if (error instanceof (ReplyError as new () => Error)) {
      this.onError(error);
      return;
    }
    this.healthySince = undefined;
    // Once per outage: every step fails while Redis is away (the counter has them all).
    if (!this.dirty) this.onError(error);
    this.dirty = true;
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const done = () => this.inFlight.delete(work);
    work.then(done, done);
    return work;
  }
}
