import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import Pusher from 'pusher';
import { pusherHttpApi, RealtimeNode, RedisClusterState, RedisFanout, type Fanout, type PusherApp } from '../../../src/realtime/index.js';
import { pusherClient, type ClientIdentity, type PusherClient } from '../../support/realtime-clients.js';
import { RecordingSink } from '../../support/realtime-server.js';
import { deleteRedisKeys, REDIS_URL, redisTestPrefix, startPrivateRedis, type PrivateRedis } from '../../support/redis.js';

/**
 * N real nodes of one cluster in this process: each a RealtimeNode with its own Redis
 * fan-out and cluster state (own connections), attached to its own Fastify server on
 * 127.0.0.1 serving the Pusher HTTP API, with its own webhook sink. They share a key prefix
 * of the test's own.
 */
export interface ClusterNode {
  name: string;
  node: RealtimeNode;
  fanout: RedisFanout;
  state: RedisClusterState;
  server: FastifyInstance;
  port: number;
  sink: RecordingSink;
  errors: unknown[];
  sdk(app: PusherApp): Pusher;
  client(app: PusherApp, who?: ClientIdentity): PusherClient;
  /** Graceful: closes sockets (4200), releases the node's share, disconnects. */
  stop(): Promise<void>;
  /** Death without goodbye: heartbeats stop, Redis connections drop, sockets are cut. */
  die(): Promise<void>;
}

export interface ClusterOptions {
  url: string;
  prefix: string;
  apps: PusherApp[];
  heartbeatMs?: number;
  nodeTtlMs?: number;
  /** What the cluster state publishes through (default: the node's fan-out), e.g. a slowed one. */
  stateFanout?: (fanout: RedisFanout) => Fanout;
}

/**
 * A `stateFanout` that is slow between Redis' answer and its `kind` messages leaving (an event
 * loop busy closing sockets, say): what the ordering tests run their slow nodes on.
 */
export const lagging =
  (kind: 'member' | 'count', ms: number) =>
  (f: Fanout): Fanout => ({
    publish: async (m) => {
      if (m.kind === kind) await sleep(ms);
      return f.publish(m);
    },
    onMessage: (h) => f.onMessage(h),
    close: () => f.close(),
  });

export async function startClusterNode(name: string, o: ClusterOptions): Promise<ClusterNode> {
  const sink = new RecordingSink();
  const errors: unknown[] = [];
  const onError = (e: unknown) => errors.push(e);
  const fanout = new RedisFanout({ url: o.url, prefix: o.prefix, name, onError });
  const state = new RedisClusterState({
    url: o.url,
    prefix: o.prefix,
    fanout: o.stateFanout?.(fanout) ?? fanout,
    nodeId: name,
    name,
    heartbeatMs: o.heartbeatMs ?? 200,
    nodeTtlMs: o.nodeTtlMs ?? 1_500,
    onError,
  });
  await fanout.connect();
  const node = new RealtimeNode({ apps: o.apps, occurrences: sink, fanout, cluster: state, transport: { closeGraceMs: 1_000 }, onError });
  await node.start();
  const server = Fastify({ logger: false });
  await server.register(pusherHttpApi, { control: node.control });
  node.attach(server.server);
  await server.listen({ host: '127.0.0.1', port: 0 });
  const port = (server.server.address() as AddressInfo).port;
  const clients: PusherClient[] = [];
  let down = false;
  return {
    name,
    node,
    fanout,
    state,
    server,
    port,
    sink,
    errors,
    sdk: (app) => new Pusher({ appId: app.id, key: app.key, secret: app.secret, host: '127.0.0.1', port: String(port), useTLS: false, timeout: 5_000 }),
    client(app, who) {
      const c = pusherClient(port, app, who);
      clients.push(c);
      return c;
    },
    async stop() {
      if (down) return;
      down = true;
      for (const c of clients) c.disconnect();
      await node.stop(1_000);
      await fanout.close();
      await server.close();
    },
    async die() {
      if (down) return;
      down = true;
      // What a SIGKILL leaves behind: no release, no more heartbeats, no Redis connections.
      state.abandon();
      await fanout.close();
      for (const c of clients) c.disconnect();
      node.server.stop();
      await node.transport.close(500);
      await server.close();
    },
  };
}

/** Heartbeat and node TTL of the outage tests: a node's absence is noticed within 1.7 s. */
export const FAST_TIMINGS = { heartbeatMs: 200, nodeTtlMs: 1_500 } as const;

/**
 * A private redis-server and the nodes `names` of one cluster on it (FAST_TIMINGS), started
 * in beforeAll and stopped in afterAll (Redis killed last). `staggerMs`: start the nodes one
 * after the other, that far apart (heartbeats out of phase, as on separate machines);
 * otherwise together. Call the returned function inside a test for the running handles.
 */
export function clusterOnPrivateRedis<N extends string>(o: {
  app: PusherApp;
  prefix: string;
  names: readonly N[];
  persistent?: boolean;
  staggerMs?: number;
}): () => { redis: PrivateRedis } & Record<N, ClusterNode> {
  let redis: PrivateRedis | undefined;
  const nodes = new Map<N, ClusterNode>();
  beforeAll(async () => {
    redis = await startPrivateRedis({ persistent: o.persistent ?? false });
    const url = redis.url;
    const start = async (name: N) => nodes.set(name, await startClusterNode(name, { url, prefix: o.prefix, apps: [o.app], ...FAST_TIMINGS }));
    if (o.staggerMs === undefined) await Promise.all(o.names.map(start));
    else {
      for (const [i, name] of o.names.entries()) {
        if (i > 0) await sleep(o.staggerMs);
        await start(name);
      }
    }
  });
  afterAll(async () => {
    await Promise.all([...nodes.values()].map((n) => n.stop()));
    await redis?.stop('SIGKILL');
  });
  return () => {
    if (!redis) throw new Error('the cluster is not started: call inside a test');
    return { redis, ...(Object.fromEntries(nodes) as Record<N, ClusterNode>) };
  };
}

/**
 * Two nodes on the shared Redis under a prefix of their own: `slow` takes `lagMs` between
 * Redis' answer and its `kind` messages leaving (`lagging`), `quick` does not. Started in
 * beforeAll, stopped (and their keys deleted) in afterAll; call the returned function
 * inside a test for the running handles.
 */
export function slowAndQuickNodes(o: { app: PusherApp; kind: 'member' | 'count'; lagMs: number }): () => { slow: ClusterNode; quick: ClusterNode } {
  const prefix = redisTestPrefix();
  let pair: { slow: ClusterNode; quick: ClusterNode } | undefined;
  beforeAll(async () => {
    const [slow, quick] = await Promise.all([
      startClusterNode('slow', { url: REDIS_URL, prefix, apps: [o.app], stateFanout: lagging(o.kind, o.lagMs) }),
      startClusterNode('quick', { url: REDIS_URL, prefix, apps: [o.app] }),
    ]);
    pair = { slow, quick };
  });
  afterAll(async () => {
    await Promise.all([pair?.slow.stop(), pair?.quick.stop()]);
    await deleteRedisKeys(prefix);
  });
  return () => {
    if (!pair) throw new Error('the nodes are not started: call inside a test');
    return pair;
  };
}
