/**
 * Cluster-state cost: how fast a burst of subscriptions (half of them presence joins) is
 * confirmed when three nodes share their channel state in Redis, against the same nodes
 * alone (LocalClusterState; each node then only knows its own). It is what a mass
 * reconnect costs — every client of a dead node subscribing again elsewhere at once.
 * The nodes run in this process on memory connections (no sockets), so the figure is the
 * protocol plus the cluster state, Redis round trips included. One warm-up burst first.
 *
 *   npx tsx bench/cluster-state.ts --connections 20000
 *
 * Env: BENCH_REDIS_URL (redis://127.0.0.1:6379); keys live under a fresh prefix, removed after.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  LocalClusterState,
  LocalFanout,
  PusherServer,
  RedisClusterState,
  RedisFanout,
  StaticAppRegistry,
  type ClusterState,
  type Connection,
  type Fanout,
  type PusherApp,
} from '../src/realtime/index.js';

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const CONNECTIONS = arg('connections', 20_000);

const app: PusherApp = {
  id: '1', key: 'bench-key', secret: 'bench-secret', enabled: true, clientEventsEnabled: false, maxConnections: 0,
  maxMessageBytes: 10_240, allowedOrigins: ['*'], activityTimeoutSeconds: 30, webhook: null, subscriptionCountEnabled: false,
};
const apps = new StaticAppRegistry([app]);
const sign = (s: string) => `${app.key}:${createHmac('sha256', app.secret).update(s).digest('hex')}`;

class CountingConnection implements Connection {
  lastActivity = 0;
  bufferedBytes = 0;
  confirmed = false;
  constructor(readonly socketId: string, readonly app: PusherApp) {}
  send(bytes: Buffer): void {
    if (bytes.includes('subscription_succeeded')) this.confirmed = true;
  }
  close(): void {}
}

async function burst(mode: 'local' | 'redis', n: number): Promise<number> {
  const prefix = `bench:cs:${randomBytes(4).toString('hex')}:`;
  const nodes = await Promise.all(
    [0, 1, 2].map(async (i) => {
      const fanout: Fanout = mode === 'redis' ? new RedisFanout({ url: REDIS_URL, prefix }) : new LocalFanout();
      const cluster: ClusterState =
        mode === 'redis' ? new RedisClusterState({ url: REDIS_URL, prefix, fanout, nodeId: `bench-${i}` }) : new LocalClusterState();
      if (fanout instanceof RedisFanout && !(await fanout.connect())) throw new Error(`no Redis at ${REDIS_URL}; set BENCH_REDIS_URL`);
      const server = new PusherServer({ apps, fanout, cluster });
      server.start();
      await cluster.start(server.state);
      return { server, cluster, fanout };
    }),
  );
  const conns: CountingConnection[] = [];
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const node = nodes[i % nodes.length]!;
    const conn = new CountingConnection(`${i}.${i}`, app);
    node.server.open(conn);
    conns.push(conn);
    const presence = i % 2 === 0;
    const channel = presence ? `presence-room-${i % 100}` : `board-${i % 200}`;
    const channelData = presence ? JSON.stringify({ user_id: `u${i % 1000}` }) : undefined;
    const auth = presence ? sign(`${conn.socketId}:${channel}:${channelData}`) : undefined;
    node.server.message(conn, Buffer.from(JSON.stringify({ event: 'pusher:subscribe', data: { channel, auth, channel_data: channelData } })), false);
  }
  while (conns.some((c) => !c.confirmed)) await new Promise((r) => setTimeout(r, 1));
  const ms = performance.now() - started;
  for (const node of nodes) {
    node.server.stop();
    await node.cluster.stop();
    await node.fanout.close();
  }
  if (mode === 'redis') {
    const redis = new Redis(REDIS_URL);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  }
  return ms;
}

for (const mode of ['local', 'redis'] as const) {
  await burst(mode, Math.min(CONNECTIONS, 2_000));
  const ms = await burst(mode, CONNECTIONS);
  console.log(
    `${mode.padEnd(5)} ${CONNECTIONS} subscriptions (half presence joins), 3 nodes: confirmed in ${ms.toFixed(0)} ms = ${Math.round(CONNECTIONS / (ms / 1000))}/s`,
  );
}
