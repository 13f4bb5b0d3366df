import type { AppRegistry, RealtimeControl } from '../contracts.js';
import { RedisFanout, type RedisFanoutStats } from '../fanout/redis-fanout.js';
import { connectWithin, createRedisConnection, quit, reportOutages, type RedisConnectionOptions } from '../redis/redis-connection.js';
import { ClusterKeys } from './redis-cluster-keys.js';
import { CLUSTER_DEFAULTS } from './redis-cluster-state.js';
import { RedisRealtimeControl } from './redis-realtime-control.js';

export interface RedisPublisherOptions extends RedisConnectionOptions {
  apps: AppRegistry;
  /** The cluster's prefix (the same as its nodes'). */
  prefix?: string;
  cacheTtlMs?: number;
  onError?: (error: unknown) => void;
}

/**
 * A RealtimeControl for a process that publishes into a cluster without serving sockets (a
 * worker-only node running the broadcaster): it answers like any node of the cluster, over
 * a publish-only fan-out connection and a command connection, and is not a member (no
 * heartbeat, nothing to reap).
 */
export class RedisPublisher {
  readonly control: RealtimeControl;
  private readonly fanout: RedisFanout;
  private readonly redis;

  constructor(options: RedisPublisherOptions) {
    const prefix = options.prefix ?? 'storeflow:rt:';
    const onError = options.onError ?? (() => {});
    this.fanout = new RedisFanout({ ...options, prefix, subscribe: false, onError, name: `${options.name ?? 'storeflow'}:publisher` });
    this.redis = createRedisConnection({ ...options, name: `${options.name ?? 'storeflow'}:publisher-state` }, 'command');
    reportOutages(this.redis, onError);
    this.control = new RedisRealtimeControl(options.apps, this.fanout, this.redis, new ClusterKeys(prefix), options.cacheTtlMs ?? CLUSTER_DEFAULTS.cacheTtlMs);
  }

  /** Connects both connections; false when Redis did not answer in time (they keep trying). */
  async connect(timeoutMs = 5_000): Promise<boolean> {
    const [a, b] = await Promise.all([this.fanout.connect(timeoutMs), connectWithin(this.redis, timeoutMs)]);
    return a && b;
  }

  stats(): RedisFanoutStats {
    return this.fanout.stats();
  }

  async close(): Promise<void> {
    await Promise.all([this.fanout.close(), quit(this.redis)]);
  }
}
