import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { createServer } from 'node:net';
import pg from 'pg';
import { CONFIG_SCHEMA } from '../../src/app/config.js';
import { addCleanup, cpuSeconds, REPO, sleep, track } from './children.js';
import { round } from './report.js';

/**
 * The whole StoreFlow app as the end-to-end run's server: `node --import tsx src/app/main.ts`
 * (what `npx tsx src/app/main.ts` runs, started directly so its pid is the server's) on a
 * throwaway PostgreSQL database that is dropped afterwards, also on failure or Ctrl-C, with an
 * HTTP client and the probes the run needs (its /metrics, the outbox, other databases' open
 * transactions).
 *
 * How the app names its real-time settings is read from its config schema (PUSHER_*,
 * REALTIME_* … KEY / SECRET / ID / PORT / PATH); BENCH_E2E_KEY, BENCH_E2E_WS_PORT and
 * BENCH_E2E_WS_PATH override what is found.
 */
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export type Reply = { status: number | string; body: any; headers: http.IncomingHttpHeaders };

// node:http with keep-alive: cheaper per request than fetch, and the CPU it saves is the server's.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
export function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const json = payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) };
  return new Promise((resolve) => {
    const req = http.request(base + path, { method, agent, timeout: 10_000, headers: { ...json, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          // keep the text
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: e.message === 'timeout' ? 'timeout' : 'network', body: null, headers: {} }));
    req.end(payload);
  });
}

export function expectStatus(r: Reply, status: number, what: string): any {
  if (r.status === status) return r.body;
  throw new Error(`${what}: expected ${status}, got ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

async function query<T>(sql: string, params: unknown[] = [], url = ADMIN_URL): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

// ---- the app's /metrics: pipeline lag, to tell the pipeline's share from the sockets' --------
export type Metrics = Map<string, number>;

/** Events after the checkpoint, summed over every subscription. */
const lagEvents = (m: Metrics) => [...m].filter(([k]) => k.startsWith('storeflow_subscription_lag_events')).reduce((sum, [, v]) => sum + v, 0);

/** The app's event-loop delay (ms) between the scrape before and `after`. */
export function eventLoopDelay(after: Metrics): { p50: number; p99: number; max: number } {
  const ms = (q: string) => Math.round((after.get(`storeflow_process_nodejs_eventloop_lag_${q}_seconds`) ?? NaN) * 10_000) / 10;
  return { p50: ms('p50'), p99: ms('p99'), max: ms('max') };
}

/**
 * p50/p99 (upper bucket bounds) of one series of a histogram between two scrapes: `name`
 * is the histogram, `labels` a label matcher, e.g. 'subscription="broadcaster"'.
 */
export function histogramBetween(before: Metrics, after: Metrics, name: string, labels: string): { count: number; p50: string; p99: string } {
  const le = (k: string) => /le="([^"]+)"/.exec(k)?.[1] ?? '+Inf';
  const buckets = [...after]
    .filter(([k]) => k.startsWith(`${name}_bucket`) && k.includes(labels))
    .map(([k, v]) => ({ le: le(k), n: v - (before.get(k) ?? 0) }))
    .sort((a, b) => (a.le === '+Inf' ? Infinity : Number(a.le)) - (b.le === '+Inf' ? Infinity : Number(b.le)));
  const total = buckets.at(-1)?.n ?? 0;
  const at = (p: number) => {
    const b = buckets.find((x) => x.n >= (p / 100) * total);
    if (!b) return '-';
    return b.le === '+Inf' ? `> ${Number(buckets.at(-2)?.le ?? 0) * 1000} ms` : `<= ${Number(b.le) * 1000} ms`;
  };
  return { count: total, p50: at(50), p99: at(99) };
}

/** The broadcaster's commit-to-handler time between two scrapes. */
export const broadcasterLag = (before: Metrics, after: Metrics) =>
  histogramBetween(before, after, 'storeflow_commit_to_handler_seconds', 'subscription="broadcaster"');

/** The app's own time for the status PATCH (first byte read to answer written) between two scrapes. */
export const patchServed = (before: Metrics, after: Metrics) =>
  histogramBetween(before, after, 'storeflow_http_request_duration_seconds', 'route="/api/stores/:storeId/orders/:orderId/status"');

/** StoreFlow's real-time settings from its config schema; undefined when it has none. */
async function realtimeSettings(httpPort: number) {
  const shape = CONFIG_SCHEMA.shape as Record<string, { safeParse(v: unknown): { success: boolean; data?: unknown } }>;
  const names = Object.keys(shape);
  const find = (re: RegExp) => names.find((n) => re.test(n));
  const vars = {
    key: find(/^(PUSHER|REALTIME|WS|WEBSOCKET)_.*KEY$/),
    secret: find(/^(PUSHER|REALTIME|WS|WEBSOCKET)_.*SECRET$/),
    id: find(/^(PUSHER|REALTIME|WS|WEBSOCKET)_(APP_)?ID$/),
    port: find(/^(PUSHER|REALTIME|WS|WEBSOCKET)_.*PORT$/),
    path: find(/^(PUSHER|REALTIME|WS|WEBSOCKET)_.*(PATH|PREFIX)$/),
  };
  const key = process.env.BENCH_E2E_KEY ?? (vars.key ? 'storeflow-bench-key' : undefined);
  if (!key) return undefined;
  const env: Record<string, string> = {};
  if (vars.key && !process.env.BENCH_E2E_KEY) env[vars.key] = key;
  if (vars.secret) env[vars.secret] = 'storeflow-bench-secret-0123456789';
  if (vars.id) env[vars.id] = 'storeflow-bench';
  let wsPort = Number(process.env.BENCH_E2E_WS_PORT ?? httpPort);
  if (vars.port && !process.env.BENCH_E2E_WS_PORT) {
    wsPort = await freePort();
    env[vars.port] = String(wsPort);
  }
  const configured = vars.path ? shape[vars.path]?.safeParse(undefined) : undefined;
  const prefix = (process.env.BENCH_E2E_WS_PATH ?? (typeof configured?.data === 'string' ? configured.data : '')).replace(/\/$/, '');
  return { env, wsPort, wsPath: `${prefix}/app/${key}?protocol=7&client=js&version=8.6.0&flash=false`, vars };
}

export interface StoreFlowUnderTest {
  base: string;
  pid: number;
  wsPort: number;
  wsPath: string;
  /** Which config variables carried the real-time settings. */
  vars: Record<string, string | undefined>;
  /** Rows of the app's database. */
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  scrape(): Promise<Metrics>;
  /** PostgreSQL backends serving the app's database. */
  backendPids(): Promise<number[]>;
  settle(): Promise<number>;
  foreignTransactions(running: () => boolean): Promise<{ samples: number; withHolder: number; oldestMs: number }>;
  stop(): Promise<void>;
}

/** Starts StoreFlow on a fresh database; a string (why not) when it has no real-time settings. */
/** `nodeArgs`: extra flags for the app's node (--cpu-prof …). */
export async function startStoreFlow(nodeArgs: readonly string[] = []): Promise<StoreFlowUnderTest | string> {
  const httpPort = await freePort();
  const settings = await realtimeSettings(httpPort);
  if (!settings) return 'found no PUSHER_*/REALTIME_* key setting in src/app/config.ts; set BENCH_E2E_KEY (and BENCH_E2E_WS_PORT / BENCH_E2E_WS_PATH)';
  const dbName = `storeflow_bench_rt_${randomBytes(4).toString('hex')}`;
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  await query(`CREATE DATABASE ${dbName}`);
  const dropDb = () => query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).then(() => undefined);
  const removeCleanup = addCleanup(dropDb);
  const app = spawn(process.execPath, [...nodeArgs, ...(process.env.BENCH_TRACE_GC ? ['--trace-gc'] : []), '--import', 'tsx', 'src/app/main.ts'], {
    cwd: REPO,
    detached: true, // its own process group, killed whole
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ...settings.env,
      PORT: String(httpPort),
      HOST: '127.0.0.1',
      DATABASE_URL: dbUrl.toString(),
      DATABASE_POOL_MAX: '20',
      LOG_LEVEL: process.env.BENCH_APP_LOG ? 'info' : 'warn',
      STOREFLOW_SEED_DEMO: 'true',
      RATE_LIMIT_LOGIN_PER_MINUTE: '100000',
      RATE_LIMIT_CHECKOUT_PER_MINUTE: '100000',
      RATE_LIMIT_COMMANDS_PER_MINUTE: '1000000',
    },
  });
  track(app, true);
  let output = '';
  const logFile = process.env.BENCH_APP_LOG ? (await import('node:fs')).createWriteStream(process.env.BENCH_APP_LOG) : undefined;
  for (const s of [app.stdout, app.stderr]) s?.on('data', (c: Buffer) => { logFile?.write(c); output = (output + c.toString()).slice(-4000); });
  const base = `http://127.0.0.1:${httpPort}`;
  const stop = async () => {
    if (app.exitCode === null && app.pid) {
      const exited = new Promise((resolve) => app.once('exit', resolve));
      process.kill(-app.pid, 'SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
    }
    await dropDb().catch((e: unknown) => console.error('could not drop', dbName, e));
    removeCleanup();
  };
  let healthy = false;
  for (const deadline = Date.now() + 60_000; !healthy && Date.now() < deadline && app.exitCode === null; await sleep(200)) {
    healthy = (await call(base, 'GET', '/health')).status === 200;
  }
  if (!healthy) {
    await stop();
    throw new Error(`StoreFlow did not become healthy:\n${output}`);
  }
  const scrape = async (): Promise<Metrics> => {
    const out: Metrics = new Map();
    for (const line of String((await call(base, 'GET', '/metrics')).body ?? '').split('\n')) {
      const m =
        /^(storeflow_(?:commit_to_handler_seconds_bucket|http_request_duration_seconds_bucket|subscription_lag_events)\{[^}]*\}) ([\d.e+-]+)$/.exec(line) ??
        // prom-client's event-loop delay since the previous scrape (it resets on every collect)
        /^(storeflow_process_nodejs_eventloop_lag_(?:p50|p99|max)_seconds) ([\d.e+-]+)$/.exec(line);
      if (m?.[1] && m[2]) out.set(m[1], Number(m[2]));
    }
    return out;
  };
  const appQuery = <T>(sql: string, params: unknown[] = []) => query<T>(sql, params, dbUrl.toString());
  return {
    base,
    pid: app.pid ?? 0,
    wsPort: settings.wsPort,
    wsPath: settings.wsPath,
    vars: settings.vars,
    query: appQuery,
    scrape,
    backendPids: async () => (await query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [dbName])).map((r) => Number(r.pid)),
    /**
     * Waits (at most 180 s) until no subscription lags, no email or webhook is due and the app
     * used under 5% of a core for a second; returns the seconds waited.
     */
    settle: async () => {
      const started = performance.now();
      const due = async () =>
        Number((await appQuery<{ n: number }>("SELECT count(*)::int AS n FROM deliveries WHERE status = 'pending' AND next_attempt_at <= now()"))[0]?.n);
      while (performance.now() - started < 180_000) {
        const cpu = cpuSeconds(app.pid ?? 0);
        await sleep(1_000);
        if (cpuSeconds(app.pid ?? 0) - cpu < 0.05 && lagEvents(await scrape()) === 0 && (await due()) === 0) break;
      }
      return round((performance.now() - started) / 1000, 1);
    },
    /**
     * A gap-safe read stops below the oldest transaction in flight on the whole cluster, so a
     * transaction open in another database holds the broadcaster back too (BENCHMARKS.md,
     * pipeline). Sampled ten times a second while `running()`.
     */
    foreignTransactions: async (running) => {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      const found = { samples: 0, withHolder: 0, oldestMs: 0 };
      try {
        for (; running(); await sleep(100)) {
          const { rows: [row] } = await client.query(
            `SELECT count(*)::int AS n, coalesce(extract(epoch FROM max(clock_timestamp() - xact_start)) * 1000, 0)::float8 AS oldest_ms
             FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM $1`,
            [dbName],
          );
          found.samples += 1;
          if (Number(row?.n) > 0) {
            found.withHolder += 1;
            found.oldestMs = Math.max(found.oldestMs, Number(row?.oldest_ms));
          }
        }
      } finally {
        await client.end();
      }
      return found;
    },
    stop,
  };
}
