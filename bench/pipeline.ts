/**
 * The event log and pipeline, in process, on PostgreSQL and on PGlite (in memory):
 *
 * 1. Append throughput: 1 and 8 concurrent writers each append one ProductUpdated per
 *    transaction (db.transaction + EventLog.append) for BENCH_SECONDS after a warm-up.
 * 2. Commit-to-handler lag: a Pipeline with one subscriber (pollIntervalMs 1000, the
 *    default, so the in-process wake-up is what is measured) while writers append at
 *    BENCH_RATE events/s for BENCH_LAG_SECONDS, calling log.committed() after each commit
 *    as the app does (EventLog.onCommitted -> pipeline.committed()). Lag is the time from
 *    just after the writer's commit resolved to the handler being entered, per event id;
 *    also shown: append time (event.timestamp, what storeflow_commit_to_handler_seconds
 *    observes) to handler. Target on PostgreSQL: p99 <= 20 ms at 500 events/s.
 *    The lag is split into waiting for a gap-safe read that returns the event, the read, and
 *    queueing behind earlier events; the runner's statements are counted by kind.
 * 3. Drain: how many events/s one subscription works off a backlog of BENCH_BACKLOG events,
 *    the most it can follow: a rate close to it makes the lag's tail long, above it unbounded.
 *
 *   npm run bench:pipeline                                   # both databases, ~1 min
 *   npx tsx bench/pipeline.ts --db postgres                  # or --db pglite
 *   BENCH_RATE=250 BENCH_LAG_SECONDS=20 npx tsx bench/pipeline.ts --db postgres
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/pipeline.ts --db postgres
 *
 * Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres; a throwaway
 * database storeflow_bench_pipe_<random> is created through it, migrated, and dropped at the
 * end, also on failure or Ctrl-C), BENCH_SECONDS (5, each append run), BENCH_LAG_SECONDS
 * (10), BENCH_WARMUP_SECONDS (1, before each run, not counted), BENCH_RATE (500),
 * BENCH_LAG_WRITERS (4, sharing the rate), BENCH_BACKLOG (20000).
 * Prints tables and one JSON line per database; writes bench/results/pipeline-<time>.json.
 *
 * The machine is shared: every run reports the CPU other processes used meanwhile ("others",
 * in cores) and, on PostgreSQL, how often another database of the cluster held a
 * transaction open (it holds gap-safe readers back). Compare runs only when these match.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { migrate } from '../src/store/index.js';
import { dropAll, openPgliteTarget, openPostgresTarget } from './bench-target.js';
import { round } from './lag-report.js';
import { measureAppend, measureDrain, measureLag, type MeasureConfig } from './pipeline-measurements.js';

const flag = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const num = (v: string | undefined, fallback: number) => (v ? Number(v) : fallback);
type Kind = 'postgres' | 'pglite';
const DBS = ({ both: ['postgres', 'pglite'], postgres: ['postgres'], pglite: ['pglite'] } as Record<string, Kind[]>)[flag('db') ?? 'both'];
const CONFIG: MeasureConfig = {
  warmupSeconds: num(process.env.BENCH_WARMUP_SECONDS, 1),
  appendSeconds: num(process.env.BENCH_SECONDS, 5),
  lagSeconds: num(process.env.BENCH_LAG_SECONDS, 10),
  rate: num(process.env.BENCH_RATE, 500),
  lagWriters: num(process.env.BENCH_LAG_WRITERS, 4),
  batchSize: 100, // the app's default PIPELINE_BATCH_SIZE
  drainMs: 15_000,
};
const BACKLOG = num(process.env.BENCH_BACKLOG, 20_000);
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const WRITER_COUNTS = [1, 8];
const TARGET = { postgres: { rate: 500, p99Ms: 20 } } as const;

let cleaning: Promise<void> | undefined;
const cleanup = () => (cleaning ??= dropAll());
// `on`, not `once`: tsx may relay a second SIGINT, which must not kill us mid-cleanup.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // Dropping the database ends the connections of clients still in use; the errors they
    // raise then are expected and must not cut the cleanup short.
    process.on('uncaughtException', () => {});
    void cleanup().finally(() => process.exit(130));
  });
}

async function benchDatabase(kind: Kind) {
  const target = kind === 'postgres' ? await openPostgresTarget(ADMIN_URL, 12) : await openPgliteTarget();
  try {
    await migrate(target.db);
    const [row] = await target.db.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    const version = row?.v ?? '?';
    console.log(`${kind} ${version}: append with ${WRITER_COUNTS.join(' and ')} writers, ${CONFIG.appendSeconds} s each...`);
    const append = [];
    for (const writers of WRITER_COUNTS) append.push(await measureAppend(target, writers, CONFIG));
    console.log(`${kind}: lag at ${CONFIG.rate} events/s for ${CONFIG.lagSeconds} s, then a backlog of ${BACKLOG} to drain...`);
    const lag = await measureLag(target, CONFIG);
    const drain = await measureDrain(target, BACKLOG, CONFIG);
    const goal = kind === 'postgres' ? TARGET.postgres : undefined;
    // Judged only at the target's rate or above; null: not judged.
    const met = goal && CONFIG.rate >= goal.rate ? lag.rate_achieved >= 0.95 * goal.rate && lag.unhandled === 0 && lag.lag_ms.p99 <= goal.p99Ms : null;
    return { db: kind, database: target.name, server_version: version, append, lag, drain, target: goal ? { ...goal, met } : null };
  } finally {
    await target.close();
  }
}
type Result = Awaited<ReturnType<typeof benchDatabase>>;

function printTables(results: Result[]): void {
  console.table(Object.fromEntries(results.map((r) => [r.db, {
    ...Object.fromEntries(r.append.map((a) => [`append ev/s ${a.writers}w`, a.events_per_s])),
    'lag at ev/s': r.lag.rate_achieved, 'lag p50 ms': r.lag.lag_ms.p50, p95: r.lag.lag_ms.p95, p99: r.lag.lag_ms.p99,
    max: r.lag.lag_ms.max, 'drain ev/s': r.drain.events_per_s,
    target: r.target ? `p99 <= ${r.target.p99Ms} ms at ${r.target.rate}/s: ${{ true: 'met', false: 'NOT met', null: 'n/a' }[String(r.target.met)]}` : 'none',
  }])));
  const others = (c: { cores_used: { others: number } } | undefined) => c?.cores_used.others ?? NaN;
  console.log('Where the lag goes (ms, p50 / p99), what the runner did, and CPU cores used by other processes meanwhile:');
  console.table(Object.fromEntries(results.map(({ db, append, lag, drain }) => [db, {
    'wait for read': `${lag.breakdown_ms.wait_for_read.p50} / ${lag.breakdown_ms.wait_for_read.p99}`,
    read: `${lag.breakdown_ms.read.p50} / ${lag.breakdown_ms.read.p99}`,
    'queue in batch': `${lag.breakdown_ms.queue_in_batch.p50} / ${lag.breakdown_ms.queue_in_batch.p99}`,
    'held back (gap)': lag.held_back_by_gap_safety.share, 'foreign xact': lag.foreign_transactions?.share_with_holder ?? '-',
    'runner busy': lag.runner.busy_share, 'round trips/ev': lag.runner.round_trips_per_event,
    'empty reads': round(lag.runner.empty_reads / Math.max(1, lag.runner.reads), 2),
    'others (1w/8w/lag/drain)': [...append.map((a) => others(a.cpu)), others(lag.cpu), others(drain.cpu)].join(' / '),
  }])));
  for (const r of results) {
    const slip = r.lag.writer_slip_ms;
    if (slip.p50 > 10) {
      console.log(`${r.db}: writers fell behind schedule (commit p50 ${slip.p50} ms after due): the database took fewer than ` +
        `${CONFIG.rate} appends/s beside the subscription here, so lag was measured at what it could take`);
    }
  }
  for (const r of results) {
    console.log(`${r.db}: the subscription runner's statements during the lag run (p99 by second: ${r.lag.lag_p99_ms_by_second.join(', ')})`);
    console.table(r.lag.statements);
  }
}

/** Which code was measured: src/ changes often, and uncommitted changes count too. */
function sourceState() {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' }).trim();
  try {
    const diff = git('diff', 'HEAD', '--', 'src');
    return {
      commit: git('rev-parse', '--short', 'HEAD'),
      uncommitted_src_files: git('diff', 'HEAD', '--name-only', '--', 'src').split('\n').filter(Boolean),
      uncommitted_src_sha1: diff ? createHash('sha1').update(diff).digest('hex').slice(0, 12) : null,
    };
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  if (!DBS) throw new Error('--db must be postgres, pglite or both');
  const c = CONFIG;
  if (!(c.appendSeconds > 0 && c.lagSeconds > 0 && c.warmupSeconds >= 0 && c.rate > 0 && c.lagWriters >= 1 && BACKLOG >= 1)) {
    throw new Error('durations, rate, writers and backlog must be positive numbers');
  }
  // Bounded whatever happens: a hang past every phase's time, plus slack, ends the run.
  const perDb = (c.warmupSeconds + c.appendSeconds) * WRITER_COUNTS.length + c.warmupSeconds + c.lagSeconds + (3 * c.drainMs) / 1000 + 60;
  const budgetMs = DBS.length * perDb * 1000;
  setTimeout(() => {
    console.error(`timed out after ${budgetMs / 1000} s`);
    void cleanup().finally(() => process.exit(1));
  }, budgetMs).unref();
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, loadavg_before: loadavg().map((l) => round(l, 2)) };
  const source = sourceState();
  console.log(`${machine.cpus} CPUs, load average ${machine.loadavg_before.join(' ')}; src at ${source?.commit ?? '?'}` +
    (source?.uncommitted_src_files.length ? ` + uncommitted ${source.uncommitted_src_files.join(', ')} (${source.uncommitted_src_sha1})` : ''));
  const results: Result[] = [];
  for (const kind of DBS) results.push(await benchDatabase(kind));
  const at = new Date().toISOString();
  printTables(results);
  for (const r of results) console.log(JSON.stringify({ benchmark: 'pipeline', at, source, ...r }));
  const report = {
    benchmark: 'pipeline', at, source, config: { ...c, backlog: BACKLOG, append_writers: WRITER_COUNTS },
    machine: { ...machine, loadavg_after: loadavg().map((l) => round(l, 2)) }, results,
  };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const file = new URL(`./results/pipeline-${at.replace(/[:.]/g, '-')}.json`, import.meta.url);
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  console.log(`wrote ${fileURLToPath(file)}`);
}

main()
  .catch((e: unknown) => {
    if (!cleaning) console.error(e instanceof Error ? e.stack : e); // quiet once interrupted
    process.exitCode = 1;
  })
  .finally(() => cleanup());
