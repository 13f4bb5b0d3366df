import type { ForeignTransactions } from './bench-target.js';
import type { CpuUse } from './cpu-meter.js';
import type { TracedDatabase } from './traced-database.js';

/** What the lag run recorded; times are performance.now() unless said otherwise. */
export interface LagRecords {
  rate: number;
  writers: number;
  seconds: number;
  /** Start of the measured window. */
  measureFrom: number;
  batchSize: number;
  /** Event id -> just after its writer's commit resolved. */
  committedAt: Map<string, number>;
  /** Event id -> the subscriber's handler was entered. */
  handledAt: Map<string, number>;
  /** Event id -> Date.now() at the handler minus event.timestamp (ms): the app's own metric. */
  sinceAppend: Map<string, number>;
  /** Events committed inside the measured window. */
  measured: ReadonlySet<string>;
  /** Commit time minus the time the event was due, per measured event: writers on schedule? */
  slip: number[];
  cpu: CpuUse | undefined;
  /** Share of the run the runner was waiting on its connection (statements and transactions). */
  runnerBusy: number;
  /** PostgreSQL only: transactions with an xid in other databases of the cluster, sampled. */
  foreign: ForeignTransactions | null;
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Nearest-rank percentiles. */
export function summary(values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN, 2);
  return { p50: at(50), p95: at(95), p99: at(99), max: at(100) };
}

export function cpuReport(use: CpuUse, events: number) {
  const cores = (s: number) => round(s / use.wall, 2);
  const perEvent = (s: number) => round((s * 1000) / Math.max(1, events), 3);
  return {
    cores_used: { bench_process: cores(use.self), postgres: cores(use.postgres), others: cores(use.others) },
    cpu_ms_per_event: { bench_process: perEvent(use.self), postgres: perEvent(use.postgres) },
  };
}

function lowerBound(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] ?? 0) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Lag per measured event, and where it went: from the commit to the start of the first
 * gap-safe read that returned the event (the runner finishing earlier work, the wake-up,
 * its per-step queries, and reads that came back without the event), the read itself, and
 * from the read to the handler (queueing behind the events before it in the batch).
 */
export function lagReport(traced: TracedDatabase, r: LagRecords) {
  const lag: number[] = [], appendLag: number[] = [], waiting: number[] = [], reading: number[] = [], queueing: number[] = [];
  const second: number[] = [];
  let heldBack = 0;
  let unhandled = 0;
  const readStarts = traced.reads.map((x) => x.start);
  for (const id of r.measured) {
    const committed = r.committedAt.get(id) ?? NaN;
    const handled = r.handledAt.get(id);
    const read = traced.firstRead.get(id);
    if (handled === undefined || !read) {
      unhandled++;
      continue;
    }
    lag.push(handled - committed);
    appendLag.push(r.sinceAppend.get(id) ?? NaN);
    waiting.push(read.start - committed);
    reading.push(read.end - read.start);
    queueing.push(handled - read.end);
    second.push(Math.floor((committed - r.measureFrom) / 1000));
    // A read that began after the commit, was not full and still missed the event was held
    // back by an older transaction in flight (gap safety). (On PGlite a read can be issued
    // before the commit and run after it: it does not count.)
    const missed = traced.reads.slice(lowerBound(readStarts, committed), lowerBound(readStarts, read.start));
    if (missed.some((x) => x.rows < r.batchSize)) heldBack++;
  }
  // A runner that cannot keep up shows as lag growing second by second.
  const bySecond = Array.from({ length: Math.ceil(r.seconds) }, (_, s) => summary(lag.filter((_, i) => second[i] === s)).p99);
  const handledTotal = Math.max(1, r.handledAt.size);
  const statements = [...traced.statements].sort((a, b) => b[1].ms - a[1].ms).map(([label, s]) => ({
    statement: label, count: s.count, per_event: round(s.count / handledTotal, 2), mean_ms: round(s.ms / s.count, 3), total_ms: round(s.ms),
  }));
  return {
    rate_target: r.rate, writers: r.writers, events: lag.length, unhandled,
    rate_achieved: round(r.measured.size / r.seconds), writer_slip_ms: summary(r.slip),
    lag_ms: summary(lag), lag_p99_ms_by_second: bySecond, append_to_handler_ms: summary(appendLag),
    breakdown_ms: { wait_for_read: summary(waiting), read: summary(reading), queue_in_batch: summary(queueing) },
    held_back_by_gap_safety: { events: heldBack, share: round(heldBack / Math.max(1, lag.length), 3) },
    foreign_transactions: r.foreign && {
      samples: r.foreign.samples, share_with_holder: round(r.foreign.withHolder / Math.max(1, r.foreign.samples), 3),
      oldest_ms: summary(r.foreign.oldestMs),
    },
    runner: {
      reads: traced.reads.length, empty_reads: traced.reads.filter((x) => x.rows === 0).length, notifications: traced.notifications,
      events_per_read: round(handledTotal / Math.max(1, traced.reads.length), 2), round_trips_per_event: round(traced.roundTrips() / handledTotal, 2),
      busy_share: round(r.runnerBusy, 2),
    },
    cpu: r.cpu && cpuReport(r.cpu, r.measured.size), statements,
  };
}
