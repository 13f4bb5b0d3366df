/**
 * bench:realtime — the WebSocket side (src/realtime) under 10,000 connections, measured from
 * outside. The server runs alone in a child process (bench/realtime/server.ts) so its CPU is
 * read from /proc/<pid>/stat (utime+stime) and its memory from /proc/<pid>/status (VmRSS); it
 * publishes in-process on a schedule, as StoreFlow's broadcaster does. A second child, the
 * load generator (bench/realtime/load-clients.ts), holds every client as a raw node:net
 * socket: hand-made upgrade (GET /app/{key}?protocol=7&client=js&version=8.6.0), masked
 * pusher:subscribe frames, deliveries counted by their first bytes, latency read from the
 * publish time ({"t":<epoch ms>,…}) by every 20th client; sources spread over 127.0.0.2+ so
 * ephemeral ports never run out. Everything on 127.0.0.x; it ends by itself and kills its
 * children (and drops its database) on exit and Ctrl-C.
 *
 * Scenarios (--only broadcast,many,idle,raw,e2e; default all but e2e: about 3 minutes, 4 with e2e):
 *  broadcast  10,000 clients on one public channel, 200-byte messages at 2, 5, 10 and 20 msg/s,
 *             8 s each: deliveries/s, deliveries per server-CPU-second (target >= 150,000),
 *             publish-to-receipt p50/p99, and whether the server kept up. Where it did not,
 *             messages due together leave in one write per socket (cheaper per delivery).
 *  many       10,000 clients each on its own customer.<i>.order channel plus one of 20
 *             store.<n>.orders channels (500 each): 2,000 customer + 40 store messages/s.
 *  idle       server RSS (and V8 heap) per connected, subscribed, idle client after a GC
 *             (target <= 8 KB), and the same for the raw Node server for reference.
 *  raw        the machine's limit, measured exactly like broadcast: a minimal Node net server
 *             (socket.write(frame) per socket per message) and a C epoll server (one write(2)
 *             per socket per message; bench/realtime/raw-server.c, compiled with cc into a temp
 *             dir at run time). Broadcast is then shown as a share of both.
 *  e2e        with --e2e (or --only e2e), when src/reactions/broadcaster.ts exists: StoreFlow
 *             (`node --import tsx src/app/main.ts`, i.e. npx tsx) on a throwaway PostgreSQL
 *             database, 10,000 customers on customer.<publicId>.order, 200 PATCH status
 *             transitions/s; PATCH send to client receipt p50/p99 (target p99 <= 50 ms), with
 *             the app's own commit-to-broadcaster histogram beside it. Otherwise skipped, saying why.
 *
 *   npm run bench:realtime
 *   npx tsx bench/realtime.ts --e2e                                  # all five
 *   npx tsx bench/realtime.ts --only broadcast,raw --rates 3,6 --seconds 15 --connections 5000
 *   npx tsx bench/realtime.ts --only broadcast --cpu-prof            # .cpuprofile of the server child
 *   npx tsx bench/realtime/profile-summary.ts /tmp/realtime-prof-…/CPU….cpuprofile
 *
 * Flags: --connections (10000; at most 19,000: one load process), --rates (broadcast msg/s
 * steps, 2,5,10,20), --seconds (8 per step), --warmup (3 s before each measured step; for e2e,
 * seconds driven at the e2e rate before the measured run), --bytes (200, message data),
 * --sample-every (20), --repeat (1: broadcast and raw N times, alternating; medians and ranges
 * reported), --e2e-rate (200), --e2e-seconds (15), --cpu-prof. Env for e2e:
 * BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres), BENCH_E2E_KEY /
 * BENCH_E2E_WS_PORT / BENCH_E2E_WS_PATH if the app's settings cannot be found,
 * BENCH_APP_LOG=<file> to keep the app's log at info level there (each request with its
 * responseTime: which requests a slow second held up, and for how long), BENCH_TRACE_GC=1
 * to run the app with --trace-gc (its lines land in that log too).
 *
 * Open files: the server child and the load child each hold one descriptor per client, so
 * `ulimit -n` must be at least connections + 1,000; checked at start. Raise it in the shell
 * first, e.g. `ulimit -n 20000` (up to the hard limit, `ulimit -Hn`).
 *
 * Reading the figures: prints a table per scenario, a targets table and one JSON line, and
 * writes bench/results/realtime-<time>.json. On loopback the sender's write(2) also runs the
 * receiver's TCP input and wake-up, so server CPU per delivery is higher than with a NIC; the
 * raw baselines pay the same, so the shares are the portable figures. Softirq time (not
 * charged to any process) and other people's CPU ("others") are shown per step: on a shared
 * machine, CPU per delivery holds up, latency and "kept up" do not.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressBlocks, cleanUp, compileRawServer, killChildren, machineSeconds, PER_ADDRESS, REPO, sleep } from './realtime/children.js';
import { runE2e, type E2eResult } from './realtime/e2e-run.js';
import { runFanout, type FanoutResult, type FanoutSpec } from './realtime/fanout-run.js';
import { printIdle, runIdle, type IdleResult } from './realtime/idle-run.js';
import { fmt, printColumns, printTable, round, verdict, type Row } from './realtime/report.js';
import { printSteps, spreadOf, stepSummary, type StepSpread } from './realtime/step-table.js';

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
const SECONDS = num('seconds', 8);
const WARMUP = num('warmup', 3);
const RATES = (flag('rates') ?? '2,5,10,20').split(',').map(Number);
if (!RATES.every((r) => Number.isFinite(r) && r > 0)) throw new Error('--rates must be a comma-separated list of positive messages/s');
const BYTES = Math.floor(num('bytes', 200));
const SAMPLE_EVERY = Math.floor(num('sample-every', 20));
const CPU_PROF = has('cpu-prof');
const E2E_RATE = num('e2e-rate', 200);
const E2E_SECONDS = num('e2e-seconds', 15);
const REPEAT = Math.floor(num('repeat', 1));
const TARGET = { perCpuSecond: 150_000, idleBytes: 8 * 1024, e2eP99Ms: 50 };

/** A fresh block of source addresses per run, so no run meets the last one's TIME_WAITs. */
const addresses = addressBlocks(CONNECTIONS);

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

function fanoutSpec(overrides: Partial<FanoutSpec> & Pick<FanoutSpec, 'server' | 'plan' | 'streams' | 'steps'>): FanoutSpec {
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
    streams: [{ template: 'orders.broadcast', count: 1, rate: 1, subscribersPerChannel: CONNECTIONS }],
    steps: RATES,
    ...extra,
  });

async function broadcast(): Promise<FanoutResult> {
  const r = await runFanout(broadcastSpec('realtime', { nodeArgs: serverNodeArgs() }));
  printSteps(`broadcast: ${fmt(CONNECTIONS)} clients on one public channel, ${BYTES}-byte messages, one step per rate`, r, SECONDS, TARGET.perCpuSecond);
  return r;
}

async function many(): Promise<FanoutResult> {
  const n = CONNECTIONS - (CONNECTIONS % 20);
  const customerRate = Math.round(n / 5); // every customer gets an update every 5 s
  const storeRate = 40; // 2/s per store channel, 500 subscribers each
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
      steps: [1],
    }),
  );
  printSteps(
    `many channels: ${fmt(n)} clients, each on customer.<i>.order and one of 20 store.<n>.orders (${fmt(n / 20)} each); msg/s = customer + store`,
    r,
    SECONDS,
  );
  return r;
}

async function idle(): Promise<{ realtime: IdleResult; rawNode: IdleResult }> {
  const spec = { connections: CONNECTIONS, plan: { kind: 'own', prefix: 'customer.', suffix: '.order' } as const, settleSeconds: 5, perAddress: PER_ADDRESS };
  const realtime = await runIdle({ ...spec, server: 'realtime', firstAddress: addresses() });
  const rawNode = await runIdle({ ...spec, server: 'raw-node', firstAddress: addresses() });
  printIdle([realtime, rawNode], TARGET.idleBytes);
  return { realtime, rawNode };
}

async function raw(): Promise<{ node: FanoutResult; c: FanoutResult | null }> {
  const node = await runFanout(broadcastSpec('raw-node'));
  printSteps(`raw Node net server: ${fmt(CONNECTIONS)} sockets, one socket.write(frame) per socket per message`, node, SECONDS);
  const compiled = compileRawServer();
  let c: FanoutResult | null = null;
  if (compiled) {
    try {
      c = await runFanout(broadcastSpec('raw-c', { rawBinary: compiled.binary }));
      printSteps(`raw C epoll server: ${fmt(CONNECTIONS)} sockets, one write(2) per socket per message`, c, SECONDS);
    } finally {
      compiled.cleanup();
    }
  }
  return { node, c };
}

/** Cores other processes keep busy before we start: on a shared machine, read every figure with it. */
async function machineBusyBefore(): Promise<number> {
  const before = machineSeconds();
  await sleep(1_000);
  return round(machineSeconds().busy - before.busy, 2);
}

/** The comparison with the raw limit, the targets table, and the summary for the JSON line. */
function summarize(
  runs: { broadcast: FanoutResult[]; rawNode: FanoutResult[]; rawC: FanoutResult[] },
  m: FanoutResult | undefined,
  i: { realtime: IdleResult } | undefined,
  e: E2eResult | undefined,
) {
  const [b, rn, rc] = [spreadOf(runs.broadcast), spreadOf(runs.rawNode), spreadOf(runs.rawC)];
  const summary = {
    broadcast: b.map((st) => ({ ...st, targetMet: st.perCpuSecond.median >= TARGET.perCpuSecond })),
    many: stepSummary(m),
    idle_rss_bytes_per_client: i?.realtime.rssPerSocketBytes,
    idle_target_met: i ? i.realtime.rssPerSocketBytes <= TARGET.idleBytes : undefined,
    raw_node: rn,
    raw_c: rc,
    e2e: e ?? undefined,
  };
  if (b.length && rn.length) {
    const range = (x: StepSpread | undefined) => (x && x.runs > 1 ? ` (${fmt(x.perCpuSecond.min)}-${fmt(x.perCpuSecond.max)})` : '');
    const cell = (x: StepSpread | undefined) => (x ? `${fmt(x.perCpuSecond.median)}${range(x)}` : '-');
    const share = (st: StepSpread, x: StepSpread | undefined) => (x ? `${fmt((100 * st.perCpuSecond.median) / x.perCpuSecond.median, 0)} %` : '-');
    const rows = b.map((st, k) => [fmt(st.rates[0] ?? 0), cell(st), cell(rn[k]), share(st, rn[k]), cell(rc[k]), share(st, rc[k])]);
    printColumns(
      `broadcast against the raw limit: deliveries per server CPU-second${REPEAT > 1 ? `, median (range) of ${REPEAT} runs` : ''}`,
      ['msg/s', 'realtime', 'raw Node', 'share', 'raw C', 'share'],
      rows,
    );
  }
  const targets: Row[] = [
    ...b.map((st): Row => [
      `broadcast at ${fmt(st.rates[0] ?? 0)} msg/s: deliveries / server CPU-s`,
      fmt(st.perCpuSecond.median),
      `${verdict(st.perCpuSecond.median, { atLeast: TARGET.perCpuSecond })}${st.keptUp === st.runs ? '' : ' (server saturated: messages coalesced)'}`,
    ]),
    ...(i ? [['idle RSS per subscribed client', `${fmt(i.realtime.rssPerSocketBytes)} B`, verdict(i.realtime.rssPerSocketBytes, { atMost: TARGET.idleBytes }, ' B')] as Row] : []),
    ...(e && 'sendToReceiptMs' in e ? [['e2e send -> receipt p99', `${e.sendToReceiptMs.p99} ms`, verdict(e.sendToReceiptMs.p99, { atMost: TARGET.e2eP99Ms }, ' ms')] as Row] : []),
    ...(e && 'skipped' in e ? [['e2e send -> receipt p99', 'skipped', e.skipped] as Row] : []),
  ];
  if (targets.length) printTable('targets', targets);
  return summary;
}

async function main(): Promise<void> {
  checkLimits();
  console.log(
    `bench:realtime on ${cpus().length} cores, Node ${process.version}: ${only.join(', ')}; ` +
      `${fmt(CONNECTIONS)} clients, ${WARMUP} s warm-up, ${SECONDS} s per measured step`,
  );
  const busy = await machineBusyBefore();
  if (busy > 0.25) {
    console.log(
      `note: ${busy} of ${cpus().length} cores were busy with other work before the start. CPU per delivery still holds; ` +
        'latency and "kept up" suffer, and the "others" column shows how much.',
    );
  }
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
  // Broadcast and the raw baselines alternate, so a slow drift of the machine hits all alike.
  const broadcastRuns: FanoutResult[] = [];
  const rawNodeRuns: FanoutResult[] = [];
  const rawCRuns: FanoutResult[] = [];
  for (let k = 0; k < REPEAT; k++) {
    const b = await attempt('broadcast', broadcast);
    if (b) broadcastRuns.push(b);
    const r = await attempt('raw', raw);
    if (r) rawNodeRuns.push(r.node);
    if (r?.c) rawCRuns.push(r.c);
  }
  if (REPEAT > 1) Object.assign(results, { broadcast: broadcastRuns, raw: { node: rawNodeRuns, c: rawCRuns } });
  const m = await attempt('many', many);
  const i = await attempt('idle', idle);
  const e = await attempt('e2e', () =>
    runE2e({ connections: CONNECTIONS, firstAddress: addresses(), perAddress: PER_ADDRESS, targetP99Ms: TARGET.e2eP99Ms, rate: E2E_RATE, seconds: E2E_SECONDS, warmupSeconds: WARMUP, nodeArgs: serverNodeArgs() }),
  );

  const summary = summarize({ broadcast: broadcastRuns, rawNode: rawNodeRuns, rawC: rawCRuns }, m, i, e);
  if (profileDir) console.log(`\nserver CPU profiles: ${profileDir} (npx tsx bench/realtime/profile-summary.ts <file>)`);

  const at = new Date().toISOString();
  const record = {
    benchmark: 'realtime',
    at,
    machine: { cores: cpus().length, model: cpus()[0]?.model, node: process.version, busyCoresBeforeStart: busy },
    options: { only, connections: CONNECTIONS, seconds: SECONDS, warmup: WARMUP, rates: RATES, repeat: REPEAT, bytes: BYTES, sampleEvery: SAMPLE_EVERY },
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
