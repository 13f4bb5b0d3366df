/**
 * The server child of bench/realtime.ts, alone in its process so its CPU and memory can be
 * read from /proc: `--kind realtime` (a RealtimeNode with one app, listening on 127.0.0.1)
 * or `--kind raw-node` (the baseline in raw-node-server.ts). Same line protocol as the C
 * baseline: commands on stdin, answers on stdout as `<word> <json>`:
 *
 *   publish <PublishPlan json>  ->  done <PublishReport json>   (publisher.ts, in this process)
 *   mem                         ->  mem <process.memoryUsage() json, after a GC if --expose-gc>
 *   counters                    ->  counters <json>
 *   stop                        ->  (exits 0, so --cpu-prof writes its profile)
 *
 * Starts with `ready {"port":…}`. Exits when stdin closes (the parent is gone).
 * `--redis <url> --prefix <key prefix>` makes the realtime node one of a cluster: its fan-out
 * goes through Redis pub/sub and its presence and counts live in Redis, as StoreFlow's nodes
 * with REDIS_URL (bench/cluster.ts starts several such nodes).
 */
import { createInterface } from 'node:readline';
import { RealtimeNode, RedisClusterState, RedisFanout, type PusherApp } from '../../src/realtime/index.js';
import { runPlan, type Publish, type PublishPlan } from './publisher.js';
import { startRawNodeServer } from './raw-node-server.js';

export const BENCH_APP: PusherApp = {
  id: 'bench',
  key: 'bench-key',
  secret: 'bench-secret',
  enabled: true,
  clientEventsEnabled: false,
  maxConnections: 0,
  maxMessageBytes: 10_240,
  allowedOrigins: ['*'],
  // Pusher's own default; with 30 s every idle client would be pinged inside the measured window.
  activityTimeoutSeconds: 120,
  webhook: null,
  subscriptionCountEnabled: false,
};

interface BenchServer {
  port: number;
  publish: Publish;
  counters(): unknown;
  stop(): Promise<void>;
}

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};

/** The fan-out and cluster state of a StoreFlow node with REDIS_URL (app/realtime-role.ts). */
async function redisCluster(url: string, onError: () => void) {
  const prefix = arg('prefix') ?? 'bench:rt:';
  const name = `bench-node-${process.pid}`;
  const fanout = new RedisFanout({ url, prefix, name, onError });
  const cluster = new RedisClusterState({ url, prefix, fanout, name, onError });
  const connected = await Promise.all([fanout.connect(5_000), cluster.connect(5_000)]);
  if (!connected.every(Boolean)) throw new Error(`no Redis at ${url}`);
  return { fanout, cluster };
}

async function startRealtime(): Promise<BenchServer> {
  let errors = 0;
  const onError = () => (errors += 1);
  const redis = arg('redis');
  const shared = redis ? await redisCluster(redis, onError) : undefined;
  const node = new RealtimeNode({ apps: [BENCH_APP], onError, ...(shared && { fanout: shared.fanout, cluster: shared.cluster }) });
  await node.start();
  const { port } = await node.listen(0, '127.0.0.1');
  return {
    port,
    publish: (channel, event, data) => {
      node.control.publish({ appId: BENCH_APP.id, channels: [channel], event, data }).catch(() => (errors += 1));
    },
    counters: () => ({ ...node.counters.snapshot(), openSockets: node.transport.openSockets, errors }),
    stop: async () => {
      await node.stop(1_000);
      await shared?.fanout.close();
    },
  };
}

async function startRawNode(): Promise<BenchServer> {
  const raw = await startRawNodeServer();
  return { port: raw.port, publish: raw.publish, counters: () => ({ subscribed: raw.subscribed() }), stop: raw.stop };
}

const say = (word: string, value: unknown) => process.stdout.write(`${word} ${JSON.stringify(value)}\n`);

async function main(): Promise<void> {
  const kind = process.argv[process.argv.indexOf('--kind') + 1];
  const server = kind === 'raw-node' ? await startRawNode() : await startRealtime();
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const [word = '', ...rest] = line.split(' ');
    const arg = rest.join(' ');
    if (word === 'publish') void runPlan(JSON.parse(arg) as PublishPlan, server.publish).then((report) => say('done', report));
    else if (word === 'mem') {
      (globalThis as { gc?: () => void }).gc?.();
      say('mem', process.memoryUsage());
    } else if (word === 'counters') say('counters', server.counters());
    else if (word === 'stop') void server.stop().finally(() => process.exit(0));
  });
  lines.on('close', () => process.exit(0));
  say('ready', { port: server.port, pid: process.pid });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
