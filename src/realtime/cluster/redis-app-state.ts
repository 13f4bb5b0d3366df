import { PRESENCE_LIMITS } from '../channels/presence-channel.js';
import type { PusherApp } from '../contracts.js';
import { frames } from '../protocol/frames.js';
import { PresenceFullError } from '../protocol/wire-errors.js';
import type { AppClusterState, CachedEvent, LocalChannels, Members } from './cluster-state.js';
import { entry, type ClusterKeys } from './redis-cluster-keys.js';
import type { ClusterScripts } from './redis-cluster-scripts.js';

/** What the per-app state needs from the node's RedisClusterState. */
export interface RedisClusterContext {
  readonly nodeId: string;
  /** How long the node's registration lasts without a heartbeat (COUNT and JOIN register it too). */
  readonly nodeTtlMs: number;
  readonly keys: ClusterKeys;
  readonly scripts: ClusterScripts;
  readonly redis: {
    hgetall(key: string): Promise<Record<string, string>>;
    hmget(key: string, ...fields: string[]): Promise<Array<string | null>>;
    get(key: string): Promise<string | null>;
  };
  /**
   * A cluster total changed: report occupied / vacated / subscription_count, and fan the
   * count out unless the COUNT script published it (`published`).
   */
  counted(appId: string, channel: string, before: number, after: number, published?: boolean): void;
  /**
   * The last two arguments of a COUNT script: the fan-out channel and the count message
   * less its count, for channels whose totals are sent to subscribers; ['', ''] otherwise.
   */
  countMessage(app: PusherApp, channel: string): [string, Buffer | string];
  /**
   * The last two arguments of a JOIN / LEAVE script: the fan-out channel and the member
   * message the script publishes itself when it decides the change (so every node hears a
   * user's changes in Redis' order, whichever nodes made them).
   */
  memberMessage(appId: string, channel: string, change: 'added' | 'removed', userId: string, info?: unknown, excludeSocketId?: string): [string, Buffer];
  /** The cluster's members of a presence channel as a JOIN or a read returned them. */
  viewed(appId: string, channel: string, members: Members): void;
  /** A JOIN / LEAVE script decided and published a member change: report it (once per cluster). */
  memberChanged(appId: string, channel: string, change: 'added' | 'removed', userId: string): void;
  /** A Redis step failed: report it and resynchronise this node's share when Redis is back. */
  failed(error: unknown): void;
  /** Runs `work` as one tracked step (stop() waits for steps in flight). */
  track<T>(work: Promise<T>): Promise<T>;
}

/**
 * One app's channels on this node against the cluster's state in Redis. Count changes are
 * coalesced per channel over one turn of the event loop and sent as this node's absolute
 * count (so coalescing and retries are safe); presence joins and leaves go at once. All of
 * them go over one connection, so Redis applies them in the order this node made them.
 * When Redis fails, a join falls back to this node's view (member_added to local
 * subscribers only) and the node resynchronises its share once Redis answers again.
 */
export class RedisAppState implements AppClusterState {
  private readonly counts = new Map<string, number>();
  private flushScheduled = false;
  /** Users this node announced gone on its own (Redis failed): channel → users. */
  private readonly leftOffline = new Map<string, Set<string>>();
  private leftOfflineCount = 0;
  /** Member webhooks this node reported on its own while Redis failed (change, channel, user). */
  private readonly reportedOffline = new Set<string>();

  constructor(
    private readonly local: LocalChannels,
    private readonly ctx: RedisClusterContext,
  ) {}

  get appId(): string {
    return this.local.app.id;
  }

  subscriptionsChanged(channel: string, _before: number, after: number): void {
    this.counts.set(channel, after);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  memberJoined(channel: string, userId: string, info: unknown, socketId: string): Promise<Members | undefined> {
    const infoJson = JSON.stringify(info);
    return this.ctx
      .track(
        this.ctx.scripts.run(
          'join',
          this.ctx.nodeId,
          this.appId,
          channel,
          userId,
          infoJson,
          PRESENCE_LIMITS.maxMembers,
          entry.member(this.appId, channel, userId),
          ...this.ctx.memberMessage(this.appId, channel, 'added', userId, info, socketId),
          this.ctx.nodeTtlMs,
        ),
      )
      .then(
        (reply) => {
          const [first, flat] = Array.isArray(reply) ? reply : [0, []];
          if (first === -1) throw new PresenceFullError(channel);
          if (first === 1) this.ctx.memberChanged(this.appId, channel, 'added', userId);
          const members = membersOf(Array.isArray(flat) ? flat : []);
          this.ctx.viewed(this.appId, channel, members);
          return members;
        },
        (error: unknown) => {
          this.ctx.failed(error);
          this.local.find(channel)?.broadcast(frames.memberAdded(channel, userId, info), socketId);
          this.local.report({ name: 'member_added', channel, user_id: userId });
          this.reportedOnOwn('added', channel, userId);
          return undefined;
        },
      );
  }

  memberLeft(channel: string, userId: string): void {
    const leaving = this.ctx.scripts.run(
      'leave',
      this.ctx.nodeId,
      this.appId,
      channel,
      userId,
      entry.member(this.appId, channel, userId),
      ...this.ctx.memberMessage(this.appId, channel, 'removed', userId),
    );
    this.ctx.track(leaving).then(
      (last) => {
        if (last === 1) this.ctx.memberChanged(this.appId, channel, 'removed', userId);
      },
      (error: unknown) => {
        this.ctx.failed(error);
        this.local.find(channel)?.broadcast(frames.memberRemoved(channel, userId));
        this.local.report({ name: 'member_removed', channel, user_id: userId });
        this.reportedOnOwn('removed', channel, userId);
        // The user may still be connected elsewhere: checked once Redis is back.
        if (this.leftOfflineCount >= MAX_LEFT_OFFLINE) return;
        let users = this.leftOffline.get(channel);
        if (!users) this.leftOffline.set(channel, (users = new Set()));
        if (!users.has(userId)) this.leftOfflineCount += 1;
        users.add(userId);
      },
    );
  }

  /**
   * Whether this member change was reported already, by this node on its own while Redis
   * failed (then the resync that tells Redis does not report it again). Consumes the note.
   */
  reportedAlready(change: 'added' | 'removed', channel: string, userId: string): boolean {
    return this.reportedOffline.delete(`${change}\u0000${channel}\u0000${userId}`);
  }

  private reportedOnOwn(change: 'added' | 'removed', channel: string, userId: string): void {
    if (this.reportedOffline.size < MAX_LEFT_OFFLINE) this.reportedOffline.add(`${change}\u0000${channel}\u0000${userId}`);
  }

  /**
   * After a resync: a user this node announced gone while Redis failed, who is still a
   * member of the cluster (connected to another node) and not here, is announced again to
   * this node's subscribers, and member_added reported to balance the member_removed.
   */
  async reannounce(localMembers: (channel: string) => Members): Promise<void> {
    // Notes the resync did not consume (a join and leave both during the outage) are done with.
    this.reportedOffline.clear();
    for (const [channel, users] of [...this.leftOffline]) {
      const ids = [...users];
      const absent = ids.filter((u) => !localMembers(channel).has(u));
      const target = this.local.find(channel);
      const infos = absent.length > 0 && target?.kind === 'presence' ? await this.ctx.track(this.ctx.redis.hmget(this.ctx.keys.presenceInfo(this.appId, channel), ...absent)) : [];
      // Checked (a failed read throws before this: they are checked after the next resync).
      for (const u of ids) users.delete(u);
      this.leftOfflineCount -= ids.length;
      if (users.size === 0) this.leftOffline.delete(channel);
      absent.forEach((userId, i) => {
        const [member] = membersOf([userId, infos[i]]);
        if (!member) return;
        target?.broadcast(frames.memberAdded(channel, member[0], member[1]));
        // The webhook receiver was told they left too: tell it they are here after all.
        this.local.report({ name: 'member_added', channel, user_id: userId });
      });
    }
  }

  async members(channel: string): Promise<Members | undefined> {
    try {
      const hash = await this.ctx.track(this.ctx.redis.hgetall(this.ctx.keys.presenceInfo(this.appId, channel)));
      const members = membersOf(Object.entries(hash).flat());
      this.ctx.viewed(this.appId, channel, members);
      return members;
    } catch (error) {
      this.ctx.failed(error);
      return undefined;
    }
  }

  async recall(channel: string): Promise<CachedEvent | undefined> {
    const raw = await this.ctx.track(this.ctx.redis.get(this.ctx.keys.cache(this.appId, channel)));
    return raw === null ? undefined : decodeCachedEvent(raw);
  }

  /** Sends every coalesced count; resolves when Redis has answered them all. */
  flush(): Promise<void> {
    this.flushScheduled = false;
    const counts = [...this.counts];
    this.counts.clear();
    return Promise.all(
      counts.map(([channel, count]) => {
        const message = this.ctx.countMessage(this.local.app, channel);
        return this.ctx
          .track(this.ctx.scripts.run('count', this.ctx.nodeId, this.appId, channel, count, entry.count(this.appId, channel), ...message, this.ctx.nodeTtlMs))
          .then(
            (reply) => {
              const [before, after] = Array.isArray(reply) ? reply.map(Number) : [0, 0];
              this.ctx.counted(this.appId, channel, before ?? 0, after ?? 0, message[0] !== '');
            },
            (error: unknown) => this.ctx.failed(error),
          );
      }),
    ).then(() => {});
  }
}

/** At most this many users announced gone during one outage are checked again after it. */
const MAX_LEFT_OFFLINE = 10_000;

/** Members from a flat [user, info JSON, …] reply; an entry whose info is not JSON is skipped. */
export function membersOf(flat: readonly unknown[]): Map<string, unknown> {
  const members = new Map<string, unknown>();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const [user, info] = [flat[i], flat[i + 1]];
    if (typeof user !== 'string' || typeof info !== 'string') continue;
    try {
      members.set(user, JSON.parse(info) as unknown);
    } catch {
      // Not ours or damaged: a member we cannot describe is left out of the list.
    }
  }
  return members;
}

export const encodeCachedEvent = (e: CachedEvent): string => JSON.stringify([e.event, e.data]);

export function decodeCachedEvent(raw: string): CachedEvent | undefined {
  try {
    const value = JSON.parse(raw) as unknown;
    if (Array.isArray(value) && typeof value[0] === 'string' && typeof value[1] === 'string') return { event: value[0], data: value[1] };
  } catch {
    // fall through: treated as no cached event
  }
  return undefined;
}
