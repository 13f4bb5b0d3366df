/**
 * bench:cluster — broadcast fan-out across 1, 2 and 3 real-time nodes sharing Redis, to show
 * what the Redis hop costs and how far a cluster scales on this machine. It is the broadcast
 * scenario of bench:realtime (same raw-socket load generator, same server child, same CPU
 * accounting from /proc), run once per configuration:
 *
 *   local     one node, in-process fan-out (the embedded default) — the reference
 *   N nodes   N server processes, each a RealtimeNode whose fan-out is Redis pub/sub; the
 *             clients are spread evenly over the nodes and node 0 publishes, so every message
 *             crosses Redis to every node (node 0's own clients included)
 *
 * Per configuration and rate: deliveries/s, server CPU summed over the nodes, redis-server
 * CPU, deliveries per server-CPU-second, and publish-to-receipt p50/p99 (every 20th client
 * reads the publish time out of the message).
 *
 *   npm run bench:cluster
 *   npx tsx bench/cluster.ts --nodes 1,2,3 --connections 9000 --rates 5,20 --seconds 8
 *
 * Flags: --nodes (1,2,3), --connections (9000: divisible by 1, 2 and 3), --rates (5,20),
 * --seconds (8), --warmup (3), --bytes (200), --no-local. Env: BENCH_REDIS_URL
 * (redis://127.0.0.1:6379). Keys and the pub/sub channel live under a fresh prefix per run.
 * `ulimit -n` must be at least connections + 1,000 (checked).
 *
 * On two cores every extra node competes with the others, the load generator and Redis for
 * the same CPUs: this measures the cost of the hop and of the duplication (each node parses
 * every message once), not the capacity of a cluster of machines. SCALING.md reads it.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { addressBlocks, cleanUp, killChildren, PER_ADDRESS, REPO } from './realtime/children.js';
import { runFanout, type FanoutResult, type FanoutSpec } from './realtime/fanout-run.js';
import { fmt, printColumns } from './realtime/report.js';
import { keptUp } from './realtime/step-table.js';

const flag = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const list = (name: string, fallback: string) => {
  const values = (flag(name) ?? fallback).split(',').map(Number);
  if (!values.every((v) => Number.isFinite(v) && v > 0)) throw new Error(`--${name} must be a comma-separated list of positive numbers`);
  return values;
};
const NODES = list('nodes', '1,2,3').map(Math.floor);
const RATES = list('rates', '5,20');
const [CONNECTIONS = 9_000] = list('connections', '9000').map(Math.floor);
const [SECONDS = 8] = list('seconds', '8');
const [WARMUP = 3] = list('warmup', '3');
const [BYTES = 200] = list('bytes', '200').map(Math.floor);
const WITH_LOCAL = !process.argv.includes('--no-local');
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Configuration {
  label: string;
  nodes: number;
  redis: boolean;
}

/** redis-server's pid when it runs on this machine (its CPU is then measured too). */
async function redisPid(): Promise<number | undefined> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  try {
    await client.connect();
    const info = await client.info('server');
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    return Number.isInteger(pid) && existsSync(`/proc/${pid}/stat`) ? pid : undefined;
  } catch (e) {
    throw new Error(`no Redis at ${REDIS_URL} (${e instanceof Error ? e.message : String(e)}); set BENCH_REDIS_URL`);
  } finally {
    client.disconnect();
  }
}

function checkOpenFiles(): void {
  const limit = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  if (Number.isFinite(limit) && limit < CONNECTIONS + 1_000) {
    console.error(`ulimit -n is ${limit}; raise it first, e.g.  ulimit -n 20000 && npm run bench:cluster`);
    process.exit(1);
  }
}

// Each node's clients start on an address of their own: up to 3 partial blocks per run.
const addresses = addressBlocks(CONNECTIONS, 4);

function spec(c: Configuration, medium: number | undefined): FanoutSpec {
  const prefix = `bench:${randomBytes(4).toString('hex')}:`;
  return {
    server: 'realtime',
    connections: CONNECTIONS,
    plan: { kind: 'one', channel: 'orders.broadcast' },
    streams: [{ template: 'orders.broadcast', count: 1, rate: 1, subscribersPerChannel: CONNECTIONS }],
    steps: RATES,
    event: 'order.status',
    bytes: BYTES,
    warmupSeconds: WARMUP,
    seconds: SECONDS,
    sampleEvery: 20,
    firstAddress: addresses(),
    perAddress: PER_ADDRESS,
    nodeArgs: [],
    nodes: c.nodes,
    serverArgs: c.redis ? ['--redis', REDIS_URL, '--prefix', prefix] : [],
    mediumPids: c.redis && medium !== undefined ? [medium] : [],
  };
}

async function main(): Promise<void> {
  checkOpenFiles();
  const medium = await redisPid();
  const configurations: Configuration[] = [
    ...(WITH_LOCAL ? [{ label: 'local', nodes: 1, redis: false }] : []),
    ...NODES.map((n) => ({ label: `${n} node${n > 1 ? 's' : ''} + Redis`, nodes: n, redis: true })),
  ];
  console.log(
    `bench:cluster on ${cpus().length} cores, Node ${process.version}: ${fmt(CONNECTIONS)} clients on one channel, ` +
      `${BYTES}-byte messages, ${RATES.join(', ')} msg/s, ${SECONDS} s per step; Redis ${REDIS_URL}${medium ? '' : ' (not on this machine: its CPU is not counted)'}`,
  );
  const results: { configuration: Configuration; result?: FanoutResult; error?: string }[] = [];
  for (const c of configurations) {
    try {
      results.push({ configuration: c, result: await runFanout(spec(c, medium)) });
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      console.error(`${c.label}: ${error}`);
      results.push({ configuration: c, error });
    }
  }
  const rows = results.flatMap(({ configuration: c, result, error }) =>
    result
      ? result.steps.map((st) => [
          c.label,
          fmt(st.rates[0] ?? 0),
          `${fmt(st.delivered)}${st.delivered < st.expected ? ` of ${fmt(st.expected)}` : ''}`,
          fmt(st.deliveriesPerSecond),
          st.serverCores,
          c.redis ? st.mediumCores : '-',
          fmt(st.deliveriesPerServerCpuSecond),
          `${st.latencyMs.p50} / ${st.latencyMs.p99}`,
          `${st.loadCores} / ${st.softirqCores} / ${st.otherCores}`,
          keptUp(st) ? 'yes' : 'NO',
        ])
      : [[c.label, '-', `failed: ${error}`, '', '', '', '', '', '', '']],
  );
  printColumns(
    `broadcast: ${fmt(CONNECTIONS)} clients spread over the nodes, node 0 publishes`,
    ['configuration', 'msg/s', 'delivered', 'deliveries/s', 'server cores (sum)', 'redis cores', 'deliv / server CPU-s', 'p50 / p99 ms', 'load / softirq / others', 'kept up'],
    rows,
    ['server cores: all nodes together; deliv / server CPU-s excludes Redis; p50/p99: publish on node 0 -> receipt by a client of any node'],
  );
  const at = new Date().toISOString();
  const summary = results.map(({ configuration: c, result, error }) => ({
    configuration: c.label,
    nodes: c.nodes,
    redis: c.redis,
    error,
    steps: result?.steps.map((st) => ({
      rate: st.rates[0],
      deliveries_per_s: st.deliveriesPerSecond,
      server_cores: st.serverCores,
      redis_cores: st.mediumCores,
      per_server_cpu_s: st.deliveriesPerServerCpuSecond,
      p50_ms: st.latencyMs.p50,
      p99_ms: st.latencyMs.p99,
      kept_up: keptUp(st),
    })),
  }));
  mkdirSync(join(REPO, 'bench/results'), { recursive: true });
  const file = join(REPO, `bench/results/cluster-${at.replace(/[:.]/g, '-')}.json`);
  const options = { nodes: NODES, connections: CONNECTIONS, rates: RATES, seconds: SECONDS, bytes: BYTES, local: WITH_LOCAL };
  writeFileSync(file, `${JSON.stringify({ benchmark: 'cluster', at, options, summary, results }, null, 2)}\n`);
  console.log(`\n${JSON.stringify({ benchmark: 'cluster', at, options, summary })}`);
  console.log(`wrote ${file}`);
  if (results.some((r) => r.error)) process.exitCode = 1;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void cleanUp().finally(() => process.exit(130)));
process.on('exit', killChildren);
main().catch(async (e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  await cleanUp();
  process.exit(1);
});
