import type { Redis } from 'ioredis';
import { parseChannelName } from '../channels/channel-name.js';
import type { AppRegistry, ChannelInfo, Publication, RealtimeControl } from '../contracts.js';
import { MediumUnavailableError, type Fanout } from '../fanout/fanout.js';
import { decodeCachedEvent, encodeCachedEvent } from './redis-app-state.js';
import type { ClusterKeys } from './redis-cluster-keys.js';

/**
 * RealtimeControl for a node of a Redis cluster: publishing and terminating go through the
 * fan-out to every node; channels, channel info and users are the cluster's totals, read from
 * Redis (so any node answers the same). A server event to a cache channel is stored in Redis
 * before it is published, so a node that subscribes later replays it too. Redis failures
 * reject (the HTTP API answers 500; the broadcaster retries).
 */
export class RedisRealtimeControl implements RealtimeControl {
  constructor(
    readonly apps: AppRegistry,
    private readonly fanout: Fanout,
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
    private readonly cacheTtlMs: number,
  ) {}

  async publish(p: Publication): Promise<void> {
    this.known(p.appId);
    const cached = p.channels.filter((c) => parseChannelName(c)?.cached);
    if (cached.length > 0) {
      const value = encodeCachedEvent({ event: p.event, data: p.data });
      const batch = this.redis.multi();
      for (const c of cached) batch.set(this.keys.cache(p.appId, c), value, 'PX', this.cacheTtlMs);
      const results = await reading(batch.exec());
      const failed = results?.find(([error]) => error);
      if (!results || failed) throw new MediumUnavailableError(failed?.[0] ?? 'cache write aborted');
    }
    await this.fanout.publish({ kind: 'event', publication: p, origin: 'server' });
  }

  async channels(appId: string, filterByPrefix = ''): Promise<Map<string, ChannelInfo>> {
    this.known(appId);
    const names = (await reading(this.redis.smembers(this.keys.occupied(appId)))).filter((n) => n.startsWith(filterByPrefix) && parseChannelName(n) && parseChannelName(n)?.kind !== 'user');
    const infos = await Promise.all(names.map((n) => this.info(appId, n, false)));
    const out = new Map<string, ChannelInfo>();
    names.forEach((name, i) => {
      if (infos[i]!.occupied) out.set(name, infos[i]!);
    });
    return out;
  }

  channel(appId: string, name: string): Promise<ChannelInfo> {
    this.known(appId);
    return this.info(appId, name, true);
  }

  async users(appId: string, channel: string): Promise<string[]> {
    this.known(appId);
    if (parseChannelName(channel)?.kind !== 'presence') return [];
    return reading(this.redis.hkeys(this.keys.presenceUsers(appId, channel)));
  }

  async terminateUserConnections(appId: string, userId: string): Promise<void> {
    this.known(appId);
    await this.fanout.publish({ kind: 'terminate_user', appId, userId });
  }

  private async info(appId: string, name: string, withCache: boolean): Promise<ChannelInfo> {
    const parsed = parseChannelName(name);
    const presence = parsed?.kind === 'presence';
    const [counts, users, cached] = await reading(Promise.all([
      this.redis.hvals(this.keys.subs(appId, name)),
      presence ? this.redis.hlen(this.keys.presenceUsers(appId, name)) : Promise.resolve(undefined),
      withCache && parsed?.cached ? this.redis.get(this.keys.cache(appId, name)) : Promise.resolve(null),
    ]));
    const subscriptionCount = counts.reduce((sum, v) => sum + (Number.parseInt(v, 10) || 0), 0);
    const info: ChannelInfo = { occupied: subscriptionCount > 0, subscriptionCount };
    if (presence) info.userCount = users ?? 0;
    if (withCache && parsed?.cached) info.cache = cached === null ? undefined : decodeCachedEvent(cached);
    return info;
  }

  private known(appId: string): void {
    if (!this.apps.byId(appId)) throw new Error(`Unknown Pusher app ${appId}`);
  }
}

/** A Redis call whose failure means the cluster cannot answer now. */
async function reading<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw new MediumUnavailableError(error);
  }
}
