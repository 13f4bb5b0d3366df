/**
 * Order-command throughput, end to end: C concurrent HTTP clients walk pickup orders through
 * pending -> accepted -> in_progress -> ready -> completed (one PATCH per transition, each with
 * the version the previous one returned) against a StoreFlow child process on PostgreSQL, for
 * a fixed time after a warm-up. Then `pgbench -N` runs with the same client count against the
 * same server, so our transitions/s read as a fraction of what PostgreSQL sustains for a small
 * write transaction (target: >= 50%). Also reports CPU ms per transition of each process:
 * on a small shared machine throughput moves with whatever else runs, CPU per transition less.
 *
 *   npm run bench:commands                       # 16 clients, 3 s warm-up, 15 s measured
 *   BENCH_SECONDS=10 npx tsx bench/commands.ts --clients 8
 *
 * Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres; throwaway databases
 * are created and dropped through it), BENCH_CLIENTS, BENCH_SECONDS, BENCH_WARMUP_SECONDS,
 * BENCH_ORDERS (placed up front), BENCH_SHARED_TOKEN=1 (one bearer token for all clients; by
 * default one each, like a tablet each), BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof"); the rest,
 * e.g. STOREFLOW_ROLES, passes through to the server. Writes bench/results/commands-<time>.json.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';

const flag = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const num = (v: string | undefined, fallback: number) => (v ? Number(v) : fallback);
const CLIENTS = num(flag('clients') ?? process.env.BENCH_CLIENTS, 16);
const SECONDS = num(flag('seconds') ?? process.env.BENCH_SECONDS, 15);
const WARMUP = num(process.env.BENCH_WARMUP_SECONDS, 3);
const ORDERS = num(process.env.BENCH_ORDERS, (WARMUP + SECONDS) * 250); // enough for 1,000 transitions/s
const SHARED_TOKEN = process.env.BENCH_SHARED_TOKEN === '1';
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REQUEST_TIMEOUT_MS = 5_000;
const WORKFLOW = ['accepted', 'in_progress', 'ready', 'completed'] as const;
const STORE = '/api/stores/1';

// ---- throwaway databases and child processes, all removed by cleanup() --------------------
const suffix = Math.random().toString(36).slice(2, 8);
const databases = { app: `storeflow_bench_${suffix}`, pgbench: `storeflow_pgbench_${suffix}` };
const children = new Set<ChildProcess>();
const dbUrl = (name: string) => { const u = new URL(ADMIN_URL); u.pathname = `/${name}`; return u.toString(); };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try { return await fn(client); } finally { await client.end(); }
}

let cleaning: Promise<void> | undefined;
const cleanup = () => (cleaning ??= (async () => {
  for (const child of children) child.kill('SIGTERM');
  await admin(async (c) => {
    for (const name of Object.values(databases)) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }).catch((e: unknown) => console.error('cleanup failed:', e instanceof Error ? e.message : e));
})());
// `on`, not `once`: tsx may relay a second SIGINT, which must not kill us mid-cleanup.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void cleanup().finally(() => process.exit(130)));

// ---- HTTP client: every request is timed and bounded --------------------------------------
// node:http with a keep-alive agent, not fetch: fetch spent ~0.8 ms of client CPU per request
// against ~0.25 ms here, and on a small machine that CPU comes out of the server's share.
type Reply = { status: number | string; body: any; ms: number; headers: http.IncomingHttpHeaders };
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const started = performance.now();
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const json = payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) };
  return new Promise((resolve) => {
    const req = http.request(base + path, { method, agent, timeout: REQUEST_TIMEOUT_MS, headers: { ...json, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; }).on('end', () => {
        let parsed: unknown = text;
        try { parsed = text ? JSON.parse(text) : null; } catch { /* keep the text */ }
        resolve({ status: res.statusCode ?? 0, body: parsed, ms: performance.now() - started, headers: res.headers });
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { name: 'TimeoutError' })));
    req.on('error', (e) => resolve({ status: e.name === 'TimeoutError' ? 'timeout' : 'network', body: null, ms: performance.now() - started, headers: {} }));
    req.end(payload);
  });
}
function expect(r: Reply, status: number, what: string): any {
  if (r.status === status) return r.body;
  throw new Error(`${what}: expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`);
}

// ---- the server under test ----------------------------------------------------------------
const freePort = () => new Promise<number>((resolve, reject) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  }).on('error', reject);
});

async function startServer(): Promise<{ base: string; pid: number; stop: () => Promise<unknown> }> {
  const port = await freePort();
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/app/main.ts'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: {
      ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: dbUrl(databases.app), LOG_LEVEL: 'warn',
      DATABASE_POOL_MAX: '20', STOREFLOW_SEED_DEMO: 'true', RATE_LIMIT_LOGIN_PER_MINUTE: '100000',
      RATE_LIMIT_CHECKOUT_PER_MINUTE: '100000', RATE_LIMIT_COMMANDS_PER_MINUTE: '1000000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  for (const stream of [child.stdout, child.stderr]) stream?.on('data', (c: Buffer) => { output = (output + c.toString()).slice(-4000); });
  const base = `http://127.0.0.1:${port}`;
  const stop = () => { const exited = once(child, 'exit'); child.kill('SIGTERM'); return Promise.race([exited, sleep(15_000)]); };
  for (const deadline = Date.now() + 30_000; Date.now() < deadline && child.exitCode === null; await sleep(200)) {
    if ((await call(base, 'GET', '/health')).status === 200) return { base, pid: child.pid ?? 0, stop };
  }
  throw new Error(`StoreFlow did not become healthy:\n${output}`);
}

async function bearerTokens(base: string, count: number): Promise<string[]> {
  const login = await call(base, 'POST', '/api/auth/login', { email: 'staff@demo.storeflow.test', password: 'storeflow-demo' });
  const { csrf_token } = expect(login, 200, 'login');
  const cookie = login.headers['set-cookie']?.[0]?.split(';')[0] ?? '';
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = await call(base, 'POST', '/api/auth/tokens', { name: `bench-${i}` }, { cookie, 'x-csrf-token': csrf_token });
    tokens.push(expect(r, 201, 'create token').token);
  }
  return tokens;
}

async function placeOrders(base: string, count: number): Promise<void> {
  let left = count;
  const body = { fulfilment_type: 'pickup', items: [{ product_id: 1, quantity: 1 }], customer: { name: 'Bench', email: 'bench@example.test' } };
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (left-- > 0) expect(await call(base, 'POST', `${STORE}/checkout`, body), 201, 'checkout');
  }));
}

/** Hands each pending order to exactly one client; refills from the board query when empty. */
function orderDispenser(base: string, auth: Record<string, string>) {
  const queue: { id: number; version: number }[] = [];
  const handedOut = new Set<number>();
  let refill: Promise<void> | undefined;
  let exhausted = false;
  return async function next(): Promise<{ id: number; version: number } | undefined> {
    while (queue.length === 0 && !exhausted) {
      refill ??= call(base, 'GET', `${STORE}/orders?status=pending&limit=500`, undefined, auth).then((r) => {
        const fresh = (expect(r, 200, 'list pending').orders as { id: number; version: number }[]).filter((o) => !handedOut.has(o.id));
        if (fresh.length === 0) exhausted = true;
        for (const o of fresh) { handedOut.add(o.id); queue.push(o); }
      }).finally(() => { refill = undefined; });
      await refill;
    }
    return queue.shift();
  };
}

// ---- the measured run ---------------------------------------------------------------------
/** utime + stime of processes from /proc (Linux; 100 clock ticks a second), in seconds. */
function procCpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch { /* gone, or no /proc */ }
  }
  return ticks / 100;
}
async function cpuMeter(serverPid: number): Promise<() => Record<string, number>> {
  const backends = await admin(async (c) =>
    (await c.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [databases.app])).rows.map((r) => Number(r.pid)));
  const read = () => {
    const self = process.cpuUsage();
    return { load_generator: (self.user + self.system) / 1e6, server: procCpuSeconds([serverPid]), postgres: procCpuSeconds(backends) };
  };
  const before = read();
  return () => Object.fromEntries(Object.entries(read()).map(([k, v]) => [k, v - before[k as keyof typeof before]]));
}

async function drive(base: string, serverPid: number, tokens: string[]) {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const measureFrom = performance.now() + WARMUP * 1000;
  const endAt = measureFrom + SECONDS * 1000;
  let lastDone = endAt;
  const cpu = sleep(WARMUP * 1000).then(() => cpuMeter(serverPid)).then(async (stop) => { await sleep(SECONDS * 1000); return stop(); });
  const next = orderDispenser(base, { authorization: `Bearer ${tokens[0]}` });
  await Promise.all(tokens.map(async (token) => {
    const auth = { authorization: `Bearer ${token}` };
    while (performance.now() < endAt) {
      const order = await next();
      if (!order) { lastDone = Math.min(lastDone, performance.now()); return; }
      let version = order.version;
      for (const status of WORKFLOW) {
        if (performance.now() >= endAt) return;
        const r = await call(base, 'PATCH', `${STORE}/orders/${order.id}/status`, { status, version }, auth);
        const counted = performance.now() >= measureFrom && performance.now() <= endAt;
        if (r.status !== 200) { if (counted) errors[r.status] = (errors[r.status] ?? 0) + 1; break; } // next order
        if (counted) latencies.push(r.ms);
        version = r.body.order.version;
      }
    }
  }));
  const seconds = Math.max(0.001, (Math.min(lastDone, endAt) - measureFrom) / 1000);
  return { latencies, errors, seconds, cpu: await cpu };
}

function findPgbench(): string {
  const onPath = (process.env.PATH ?? '').split(':').map((d) => `${d}/pgbench`);
  const installed = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : [];
  const found = [...onPath, ...installed.map((v) => `/usr/lib/postgresql/${v}/bin/pgbench`)].find((p) => existsSync(p));
  if (!found) throw new Error('pgbench not found on PATH or in /usr/lib/postgresql/*/bin');
  return found;
}

async function pgbench(seconds: number): Promise<number> {
  const run = promisify(execFile);
  const [bin, url] = [findPgbench(), dbUrl(databases.pgbench)];
  await run(bin, ['-i', '-q', url]);
  const running = run(bin, ['-N', '-c', String(CLIENTS), '-j', String(Math.min(2, CLIENTS)), '-T', String(seconds), '-n', url], { timeout: (seconds + 30) * 1000 });
  children.add(running.child);
  const { stdout } = await running;
  const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
  if (!Number.isFinite(tps)) throw new Error(`could not parse pgbench output:\n${stdout}`);
  return tps;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  if (!(CLIENTS >= 1 && SECONDS > 0 && WARMUP >= 0 && ORDERS >= 1)) throw new Error('clients, seconds and orders must be positive numbers');
  const postgres = await admin(async (c) => {
    for (const name of Object.values(databases)) await c.query(`CREATE DATABASE ${name}`);
    return String((await c.query('SHOW server_version')).rows[0]?.server_version);
  });
  console.log(`StoreFlow on PostgreSQL ${postgres}: ${CLIENTS} clients, ${WARMUP} s warm-up + ${SECONDS} s measured`);
  const server = await startServer();
  const tokens = await bearerTokens(server.base, SHARED_TOKEN ? 1 : CLIENTS);
  const placing = performance.now();
  await placeOrders(server.base, ORDERS);
  console.log(`placed ${ORDERS} orders in ${round((performance.now() - placing) / 1000)} s; driving transitions...`);
  const ours = await drive(server.base, server.pid, Array.from({ length: CLIENTS }, (_, i) => tokens[i % tokens.length] as string));
  await server.stop(); // pgbench gets the machine to itself
  if (ours.seconds < SECONDS) console.warn(`ran out of orders after ${round(ours.seconds)} s measured: raise BENCH_ORDERS`);
  console.log(`running pgbench -N -c ${CLIENTS} -j 2 -T ${SECONDS}...`);
  const pgbenchTps = await pgbench(SECONDS);

  const sorted = [...ours.latencies].sort((a, b) => a - b);
  const tps = ours.latencies.length / ours.seconds;
  const ms = (p: number) => round(percentile(sorted, p), 2);
  const result = {
    benchmark: 'commands', at: new Date().toISOString(), clients: CLIENTS, warmup_s: WARMUP, measured_s: round(ours.seconds, 2),
    shared_token: SHARED_TOKEN, transitions: ours.latencies.length, transitions_per_s: round(tps),
    latency_ms: { p50: ms(50), p95: ms(95), p99: ms(99), max: ms(100) },
    cpu_ms_per_transition: Object.fromEntries(Object.entries(ours.cpu).map(([k, s]) => [k, round((s * 1000) / Math.max(1, ours.latencies.length), 3)])),
    errors: ours.errors, pgbench_n_tps: round(pgbenchTps), ratio: round(tps / pgbenchTps, 3),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, postgres },
  };
  console.table({
    'transitions/s': result.transitions_per_s, 'p50 ms': result.latency_ms.p50, 'p95 ms': result.latency_ms.p95,
    'p99 ms': result.latency_ms.p99, errors: JSON.stringify(result.errors),
    'CPU ms/transition': Object.entries(result.cpu_ms_per_transition).map(([k, v]) => `${k} ${v}`).join(', '),
    'pgbench -N tps': result.pgbench_n_tps, 'ratio (target >= 0.5)': result.ratio,
  });
  console.log(JSON.stringify(result));
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const file = new URL(`./results/commands-${result.at.replace(/[:.]/g, '-')}.json`, import.meta.url);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${fileURLToPath(file)}`);
}

main()
  .catch((e: unknown) => { if (!cleaning) console.error(e instanceof Error ? e.message : e); process.exitCode = 1; }) // quiet once interrupted
  .finally(() => cleanup());
