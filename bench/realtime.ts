/**
 * bench:realtime — the WebSocket side (src/realtime) under many connections, measured from
 * outside: the server runs alone in a child process (its CPU from /proc/<pid>/stat
 * utime+stime, its memory from /proc/<pid>/status VmRSS) and a second child, the load
 * generator, holds every client as a raw TCP socket (node:net, hand-made upgrade, masked
 * pusher:subscribe frames, deliveries counted by their first bytes; bench/realtime/
 * load-clients.ts) spread over source addresses 127.0.0.2+ so ephemeral ports never run out.
 * Messages carry their publish time ({"t":<epoch ms>,…}) so sampled clients measure latency.
 *
 * Scenarios (--only broadcast,many,idle,raw,e2e; default all but e2e):
 *  broadcast  10,000 clients on one public channel, 200-byte messages published in the server
 *             process at --rate/s for --seconds: deliveries/s and deliveries per server-CPU-
 *             second (target >= 150,000), publish-to-receipt latency.
 *  many       10,000 clients each on its own customer.<i>.order channel and on one of 20
 *             store.<n>.orders channels (500 each); customer and store messages mixed.
 *  idle       RSS (and V8 heap) of the server per connected, subscribed, idle client
 *             (target <= 8 KB), and the same for the raw Node server for reference.
 *  raw        the machine's limit, measured exactly like broadcast: a minimal Node net server
 *             doing socket.write(frame) per socket per message, and a C epoll server
 *             (bench/realtime/raw-server.c, compiled with cc into a temp dir at run time).
 *             Broadcast figures are also shown as a fraction of these.
 *  e2e        needs --e2e (or --only e2e) and the app wired to the real-time server
 *             (src/reactions/broadcaster.ts): StoreFlow on a throwaway PostgreSQL database,
 *             10,000 customers subscribed to customer.<publicId>.order, 200 status
 *             transitions/s over HTTP; HTTP send to client receipt p50/p99 (target p99 <= 50 ms).
 *             Skipped with a message when the app does not support it yet (bench/realtime/e2e-run.ts).
 *
 *   npm run bench:realtime                          # ~3 min on 2 cores
 *   npx tsx bench/realtime.ts --only broadcast,raw --connections 5000 --rate 20 --seconds 15
 *   npx tsx bench/realtime.ts --e2e                 # everything, with the full app
 *   npx tsx bench/realtime.ts --only broadcast --cpu-prof   # profile of the server child
 *   npx tsx bench/realtime/profile-summary.ts <file.cpuprofile>
 *
 * Flags: --connections (10000; under 19,000, one load process), --seconds (10, measured),
 * --warmup (3), --rate (broadcast messages/s, 10), --bytes (200, message data), --sample-every
 * (20: every 20th client measures latency), --cpu-prof (server child of broadcast/many writes a
 * .cpuprofile to a temp dir). Env: BENCH_DATABASE_URL for e2e (postgres://postgres@127.0.0.1:5432/postgres).
 *
 * File descriptors: the server child and the load child each hold one per client. Raise the
 * limit first when it is below connections + 1,000, e.g. `ulimit -n 20000` (hard limit
 * permitting; see /etc/security/limits.conf or systemd's LimitNOFILE).
 * Writes bench/results/realtime-<time>.json and prints one JSON line. Everything runs on
 * 127.0.0.x, ends by itself, and kills its children on exit and Ctrl-C. Loopback note: on
 * 127.0.0.1 the sender's write(2) also runs the receiver's TCP input, so server CPU includes
 * kernel work a real NIC would split; the raw baselines pay the same, so compare against them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanUp, killChildren, REPO } from './realtime/children.js';
import { runE2e } from './realtime/e2e-run.js';
import { runFanout, type FanoutResult, type FanoutSpec } from './realtime/fanout-run.js';
import { runIdle, type IdleResult } from './realtime/idle-run.js';
import { fmt, printTable, round, verdict, type Row } from './realtime/report.js';

const flag = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const has = (name: string) => process.argv.includes(`--${name}`);
const num = (name: string, fallback: number) => {
  const v = Number(flag(name) ?? fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
};

const SCENARIOS = ['broadcast', 'many', 'idle', 'raw', 'e2e'] as const;
type Scenario = (typeof SCENARIOS)[number];
const only = (flag('only') ?? (has('e2e') ? SCENARIOS.join(',') : 'broadcast,many,idle,raw')).split(',') as Scenario[];
const CONNECTIONS = Math.floor(num('connections', 10_000));
const SECONDS = num('seconds', 10);
const WARMUP = num('warmup', 3);
const RATE = num('rate', 10);
const BYTES = Math.floor(num('bytes', 200));
const SAMPLE_EVERY = Math.floor(num('sample-every', 20));
const CPU_PROF = has('cpu-prof');
const PER_ADDRESS = 2_000;
const TARGET = { perCpuSecond: 150_000, idleBytes: 8 * 1024, e2eP99Ms: 50 };

let addressCursor = 0;
/** A fresh block of source addresses per run, so no run meets the last one's TIME_WAITs. */
function addresses(): number {
  const needed = Math.ceil(CONNECTIONS / PER_ADDRESS) + 1;
  if (addressCursor + needed > 250) addressCursor = 0;
  const first = 2 + addressCursor;
  addressCursor += needed;
  return first;
}

function checkLimits(): void {
  if (!existsSync('/proc/self/stat')) throw new Error('needs Linux /proc (server CPU and memory are read from it)');
  const bad = only.filter((s) => !SCENARIOS.includes(s));
  if (bad.length) throw new Error(`unknown scenario ${bad.join(', ')}; pick from ${SCENARIOS.join(',')}`);
  if (CONNECTIONS > 19_000) throw new Error('--connections above 19,000 would need more than one load process; not supported');
  const limit = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  const needed = CONNECTIONS + 1_000;
  if (Number.isFinite(limit) && limit < needed) {
    console.error(
      `The open-file limit (ulimit -n) is ${limit}; ${CONNECTIONS} connections need at least ${needed} per process ` +
        `(the server child and the load child each hold one descriptor per client).\n` +
        `Raise it in this shell and rerun, e.g.:  ulimit -n ${Math.max(needed, 20_000)} && npm run bench:realtime\n` +
        `or run with fewer clients: --connections ${Math.max(100, limit - 1_000)}`,
    );
    process.exit(1);
  }
}

function fanoutSpec(overrides: Partial<FanoutSpec> & Pick<FanoutSpec, 'server' | 'plan' | 'streams'>): FanoutSpec {
  return {
    connections: CONNECTIONS,
    event: 'order.status',
    bytes: BYTES,
    warmupSeconds: WARMUP,
    seconds: SECONDS,
    sampleEvery: SAMPLE_EVERY,
    firstAddress: addresses(),
    perAddress: PER_ADDRESS,
    nodeArgs: [],
    ...overrides,
  };
}

let profileDir: string | undefined;
function serverNodeArgs(): string[] {
  if (!CPU_PROF) return [];
  profileDir ??= mkdtempSync(join(tmpdir(), 'realtime-prof-'));
  return ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
}

const broadcastSpec = (server: FanoutSpec['server'], extra: Partial<FanoutSpec> = {}) =>
  fanoutSpec({
    server,
    plan: { kind: 'one', channel: 'orders.broadcast' },
    streams: [{ template: 'orders.broadcast', count: 1, rate: RATE, subscribersPerChannel: CONNECTIONS }],
    ...extra,
  });

function fanoutRows(r: FanoutResult, target?: number): Row[] {
  return [
    ['clients subscribed', `${fmt(r.connections.ready)} / ${fmt(r.connections.wanted)}`, `in ${r.connections.seconds} s`],
    ['messages published', fmt(r.published), `late by mean ${r.publisherLateMs.mean} ms, max ${r.publisherLateMs.max} ms`],
    ['deliveries', `${fmt(r.delivered)} / ${fmt(r.expected)}`, r.delivered < r.expected ? 'SOME MISSING' : 'all arrived'],
    ['deliveries/s', fmt(r.deliveriesPerSecond), `over ${r.wallSeconds} s publish + drain`],
    ['server CPU (cores)', r.serverCores, `${r.serverCpuSeconds} CPU-s`],
    ['deliveries / server CPU-s', fmt(r.deliveriesPerServerCpuSecond), target ? verdict(r.deliveriesPerServerCpuSecond, { atLeast: target }) : undefined],
    ['latency p50 / p99 / max (ms)', `${r.latencyMs.p50} / ${r.latencyMs.p99} / ${r.latencyMs.max}`, `${fmt(r.latencyMs.count)} samples`],
    ['load generator / others (cores)', `${r.loadCores} / ${r.otherCores}`],
    ['clients lost', JSON.stringify(r.lostClients), Object.keys(r.clientErrors).length ? `errors ${JSON.stringify(r.clientErrors)}` : undefined],
  ];
}

async function broadcast(): Promise<FanoutResult> {
  const r = await runFanout(broadcastSpec('realtime', { nodeArgs: serverNodeArgs() }));
  printTable(`broadcast: ${fmt(CONNECTIONS)} clients on one channel, ${RATE} msg/s x ${BYTES} B for ${SECONDS} s`, fanoutRows(r, TARGET.perCpuSecond));
  return r;
}

async function many(): Promise<FanoutResult> {
  const n = CONNECTIONS - (CONNECTIONS % 20);
  const customerRate = Math.round(n / 5); // every customer gets an update every 5 s
  const storeRate = RATE * 5;
  const r = await runFanout(
    fanoutSpec({
      server: 'realtime',
      connections: n,
      nodeArgs: serverNodeArgs(),
      plan: { kind: 'own', prefix: 'customer.', suffix: '.order', shared: { count: 20, prefix: 'store.', suffix: '.orders' } },
      streams: [
        { template: 'customer.{i}.order', count: n, rate: customerRate, subscribersPerChannel: 1 },
        { template: 'store.{i}.orders', count: 20, rate: storeRate, subscribersPerChannel: n / 20 },
      ],
    }),
  );
  printTable(
    `many channels: ${fmt(n)} clients, each on customer.<i>.order (${customerRate} msg/s in all) + one of 20 store.<n>.orders (${storeRate} msg/s in all)`,
    fanoutRows(r),
  );
  return r;
}

async function idle(): Promise<{ realtime: IdleResult; rawNode: IdleResult }> {
  const spec = { connections: CONNECTIONS, plan: { kind: 'own', prefix: 'customer.', suffix: '.order' } as const, settleSeconds: 5, perAddress: PER_ADDRESS };
  const realtime = await runIdle({ ...spec, server: 'realtime', firstAddress: addresses() });
  const rawNode = await runIdle({ ...spec, server: 'raw-node', firstAddress: addresses() });
  const rows = (r: IdleResult): Row[] => [
    [`${r.server}: RSS before -> after`, `${r.rssBeforeMiB} -> ${r.rssAfterMiB} MiB`, `${fmt(r.ready)} clients`],
    [`${r.server}: RSS per client`, `${fmt(r.rssPerSocketBytes)} B`, r.server === 'realtime' ? verdict(r.rssPerSocketBytes, { atMost: TARGET.idleBytes }, ' B') : 'reference'],
    [`${r.server}: V8 heap / external per client`, `${fmt(r.heapPerSocketBytes)} / ${fmt(r.externalPerSocketBytes)} B`],
  ];
  printTable(`idle memory: ${fmt(CONNECTIONS)} clients, each subscribed to its own channel, idle 5 s (after a GC)`, [...rows(realtime), ...rows(rawNode)]);
  return { realtime, rawNode };
}

function compileRawServer(): { binary: string; cleanup: () => void } | undefined {
  try {
    const dir = mkdtempSync(join(tmpdir(), 'realtime-raw-'));
    const binary = join(dir, 'raw-server');
    execFileSync('cc', ['-O2', '-o', binary, join(REPO, 'bench/realtime/raw-server.c')], { stdio: ['ignore', 'inherit', 'inherit'] });
    return { binary, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (e) {
    console.error(`skipping the C baseline: could not compile it with cc (${e instanceof Error ? e.message : e})`);
    return undefined;
  }
}

async function raw(): Promise<{ node: FanoutResult; c: FanoutResult | null }> {
  const node = await runFanout(broadcastSpec('raw-node'));
  printTable(`raw Node net server: ${fmt(CONNECTIONS)} sockets, one socket.write per socket per message, ${RATE} msg/s`, fanoutRows(node));
  const compiled = compileRawServer();
  let c: FanoutResult | null = null;
  if (compiled) {
    try {
      c = await runFanout(broadcastSpec('raw-c', { rawBinary: compiled.binary }));
      printTable(`raw C epoll server: ${fmt(CONNECTIONS)} sockets, one write(2) per socket per message, ${RATE} msg/s`, fanoutRows(c));
    } finally {
      compiled.cleanup();
    }
  }
  return { node, c };
}

async function main(): Promise<void> {
  checkLimits();
  console.log(
    `bench:realtime on ${cpus().length} cores, Node ${process.version}: ${only.join(', ')}; ` +
      `${fmt(CONNECTIONS)} clients, ${WARMUP} s warm-up + ${SECONDS} s measured per run`,
  );
  const results: Record<string, unknown> = {};
  const failures: Record<string, string> = {};
  const attempt = async <T>(name: Scenario, fn: () => Promise<T>): Promise<T | undefined> => {
    if (!only.includes(name)) return undefined;
    try {
      const r = await fn();
      results[name] = r;
      return r;
    } catch (e) {
      failures[name] = e instanceof Error ? e.message : String(e);
      console.error(`\n${name} failed: ${failures[name]}`);
      return undefined;
    }
  };
  const b = await attempt('broadcast', broadcast);
  const m = await attempt('many', many);
  const i = await attempt('idle', idle);
  const r = await attempt('raw', raw);
  const e = await attempt('e2e', () => runE2e({ connections: CONNECTIONS, firstAddress: addresses(), perAddress: PER_ADDRESS, targetP99Ms: TARGET.e2eP99Ms }));

  const summary = {
    broadcast_deliveries_per_s: b?.deliveriesPerSecond,
    broadcast_per_server_cpu_s: b?.deliveriesPerServerCpuSecond,
    broadcast_target_met: b ? b.deliveriesPerServerCpuSecond >= TARGET.perCpuSecond : undefined,
    broadcast_share_of_raw_node: b && r ? round(b.deliveriesPerServerCpuSecond / r.node.deliveriesPerServerCpuSecond, 3) : undefined,
    broadcast_share_of_raw_c: b && r?.c ? round(b.deliveriesPerServerCpuSecond / r.c.deliveriesPerServerCpuSecond, 3) : undefined,
    many_deliveries_per_s: m?.deliveriesPerSecond,
    many_per_server_cpu_s: m?.deliveriesPerServerCpuSecond,
    idle_rss_bytes_per_client: i?.realtime.rssPerSocketBytes,
    idle_target_met: i ? i.realtime.rssPerSocketBytes <= TARGET.idleBytes : undefined,
    raw_node_per_cpu_s: r?.node.deliveriesPerServerCpuSecond,
    raw_c_per_cpu_s: r?.c?.deliveriesPerServerCpuSecond,
    e2e: e ?? undefined,
  };
  if (b && r) {
    const rows: Row[] = [
      ['realtime broadcast', fmt(b.deliveriesPerServerCpuSecond), 'deliveries / server CPU-s'],
      ['raw Node net server', fmt(r.node.deliveriesPerServerCpuSecond), `realtime = ${fmt(100 * (summary.broadcast_share_of_raw_node ?? 0), 1)} % of it`],
    ];
    if (r.c) rows.push(['raw C epoll server', fmt(r.c.deliveriesPerServerCpuSecond), `realtime = ${fmt(100 * (summary.broadcast_share_of_raw_c ?? 0), 1)} % of it`]);
    printTable('broadcast against the raw limit (same clients, rate and message size)', rows);
  }
  if (profileDir) console.log(`\nserver CPU profiles: ${profileDir} (npx tsx bench/realtime/profile-summary.ts <file>)`);

  const at = new Date().toISOString();
  const record = {
    benchmark: 'realtime',
    at,
    machine: { cores: cpus().length, model: cpus()[0]?.model, node: process.version },
    options: { only, connections: CONNECTIONS, seconds: SECONDS, warmup: WARMUP, rate: RATE, bytes: BYTES, sampleEvery: SAMPLE_EVERY },
    targets: TARGET,
    summary,
    results,
    failures,
  };
  mkdirSync(join(REPO, 'bench/results'), { recursive: true });
  const file = join(REPO, `bench/results/realtime-${at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  console.log(`\n${JSON.stringify({ benchmark: 'realtime', at, options: record.options, summary, failures })}`);
  console.log(`wrote ${file}`);
  if (Object.keys(failures).length) process.exitCode = 1;
}

// `on`, not `once`: tsx may relay a second SIGINT, which must not kill us mid-cleanup.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void cleanUp().finally(() => process.exit(130)));
process.on('exit', killChildren);
main().catch(async (e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  await cleanUp();
  process.exit(1);
});
