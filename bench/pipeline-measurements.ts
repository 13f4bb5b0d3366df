import { randomBytes, randomUUID } from 'node:crypto';
import type { NewEvent, StoredEvent } from '../src/events/index.js';
import { Pipeline, subscriptionSql } from '../src/pipeline/index.js';
import { systemClock } from '../src/shared/index.js';
import { EventLog, type Database } from '../src/store/index.js';
import type { BenchTarget } from './bench-target.js';
import { startCpuMeter, type CpuUse } from './cpu-meter.js';
import { cpuReport, lagReport, round, summary } from './lag-report.js';
import { TracedDatabase } from './traced-database.js';

export interface MeasureConfig {
  warmupSeconds: number;
  appendSeconds: number;
  lagSeconds: number;
  /** Events per second the lag run appends, shared by `lagWriters` writers. */
  rate: number;
  lagWriters: number;
  /** The runner's batch size (the app's PIPELINE_BATCH_SIZE). */
  batchSize: number;
  /** How long a subscription may take to catch up after the writers stop. */
  drainMs: number;
}

const COOL_DOWN_MS = 500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const newLog = () => new EventLog('bench', () => new Date());

/** A valid ProductUpdated; each writer owns its stream, so versions never collide. */
function productUpdated(stream: string, streamVersion: number): NewEvent {
  const timestamp = new Date().toISOString();
  return {
    name: 'ProductUpdated', version: 1, stream, stream_version: streamVersion,
    payload: {
      product_id: 1, store_id: 1, name: 'Bench product', price_minor: 1299, currency: 'EUR', active: true,
      changed: ['price_minor'], timestamp, version: streamVersion + 1,
    },
    metadata: {
      merchant_id: 1, store_id: 1, actor: { type: 'system', id: null }, correlation_id: randomUUID(), causation_id: null, request_id: null,
    },
  };
}

/** Appends one event in its own transaction, as a command does; returns its id. */
async function appendOne(db: Database, log: EventLog, stream: string, version: number): Promise<string> {
  const [stored] = await db.transaction((tx) => log.append(tx, [productUpdated(stream, version)]));
  if (!stored) throw new Error('append returned no event');
  return stored.id;
}

async function until(done: () => boolean, ms: number, failure: string | null): Promise<void> {
  for (const deadline = performance.now() + ms; !done(); await sleep(20)) {
    if (performance.now() > deadline) {
      if (failure) throw new Error(failure);
      return;
    }
  }
}

/** Appends for warm-up + `appendSeconds` with `writers` concurrent writers; counts the measured part. */
export async function measureAppend(target: BenchTarget, writers: number, c: MeasureConfig) {
  const log = newLog();
  const run = randomBytes(3).toString('hex');
  const latencies: number[] = [];
  const measureFrom = performance.now() + c.warmupSeconds * 1000;
  const end = measureFrom + c.appendSeconds * 1000;
  let meter: Promise<() => CpuUse> | undefined;
  await Promise.all(Array.from({ length: writers }, async (_, w) => {
    for (let version = 1; performance.now() < end; version++) {
      const started = performance.now();
      // Started by a writer, not a timer: on PGlite back-to-back writes may starve timers.
      if (started >= measureFrom) meter ??= target.backendPids().then(startCpuMeter);
      await appendOne(target.db, log, `bench-append-${run}-w${w}`, version);
      log.committed();
      const done = performance.now();
      if (started >= measureFrom && done <= end) latencies.push(done - started);
    }
  }));
  const use = (await meter)?.();
  return {
    writers, events: latencies.length, events_per_s: round(latencies.length / c.appendSeconds),
    tx_ms: summary(latencies), cpu: use && cpuReport(use, latencies.length),
  };
}

/** A new subscription whose checkpoint is the log's tail: it sees only what is appended from now. */
async function subscriptionAtTail(db: Database): Promise<string> {
  const name = `bench-${randomBytes(3).toString('hex')}`;
  const [tail] = await db.query<{ tx: string; position: number }>(
    'SELECT transaction_id::text AS tx, position FROM events ORDER BY events.transaction_id DESC, events.position DESC LIMIT 1',
  );
  await subscriptionSql.ensure(db, name);
  if (tail) await subscriptionSql.reset(db, name, { transactionId: BigInt(tail.tx), position: Number(tail.position) });
  return name;
}

/** Runs subscription `name` in a Pipeline wired as the app wires it, on a traced connection. */
async function startSubscription(target: BenchTarget, log: EventLog, c: MeasureConfig, name: string, handle: (e: StoredEvent) => void) {
  const traced = new TracedDatabase(target.db);
  // pollIntervalMs 1000 (the default): the wake-up after a commit is what gets measured.
  const pipeline = new Pipeline({ db: traced, log, clock: systemClock, pollIntervalMs: 1_000, batchSize: c.batchSize });
  pipeline.register({ name, handle: async (event) => handle(event) });
  const unhook = log.onCommitted(() => pipeline.committed());
  await pipeline.start();
  return {
    traced,
    stop: async () => {
      unhook();
      await pipeline.stop();
    },
  };
}

/**
 * Writers append at `rate` for warm-up + `lagSeconds` (+ a short cool-down), open loop: event i is due at
 * t0 + i/rate whatever happened before, and writer w takes every lagWriters-th slot, so a
 * slow commit delays only its own writer. Lag: commit resolved -> handler entered.
 */
export async function measureLag(target: BenchTarget, c: MeasureConfig) {
  const log = newLog();
  const committedAt = new Map<string, number>();
  const handledAt = new Map<string, number>();
  const sinceAppend = new Map<string, number>();
  const sub = await startSubscription(target, log, c, await subscriptionAtTail(target.db), (event) => {
    if (!handledAt.has(event.id)) handledAt.set(event.id, performance.now());
    sinceAppend.set(event.id, Date.now() - Date.parse(event.timestamp));
  });
  try {
    await until(() => sub.traced.reads.length > 0, 10_000, 'the subscription never read the log');
    const run = randomBytes(3).toString('hex');
    const t0 = performance.now();
    const busyBefore = sub.traced.busyMs;
    const measureFrom = t0 + c.warmupSeconds * 1000;
    const end = measureFrom + c.lagSeconds * 1000;
    const slip: number[] = [];
    const measured = new Set<string>();
    let meter: Promise<() => CpuUse> | undefined;
    const sampling = target.sampleForeignTransactions(measureFrom, end);
    await Promise.all(Array.from({ length: c.lagWriters }, async (_, w) => {
      for (let i = w, version = 1; ; i += c.lagWriters, version++) {
        const due = t0 + (i * 1000) / c.rate;
        // Writing goes on a little past the window: the last measured events must not be the
        // log's last, which nothing but the poll would wake for if a transaction held them back.
        if (due >= end + COOL_DOWN_MS) return;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        if (due >= measureFrom) meter ??= target.backendPids().then(startCpuMeter);
        const id = await appendOne(target.db, log, `bench-lag-${run}-w${w}`, version);
        const at = performance.now();
        committedAt.set(id, at);
        log.committed();
        if (at >= measureFrom && at < end) {
          measured.add(id);
          slip.push(at - due);
        }
      }
    }));
    const use = (await meter)?.();
    await until(() => [...committedAt.keys()].every((id) => handledAt.has(id)), c.drainMs, null);
    const runnerBusy = (sub.traced.busyMs - busyBefore) / (performance.now() - t0);
    return lagReport(sub.traced, {
      rate: c.rate, writers: c.lagWriters, seconds: c.lagSeconds, measureFrom, batchSize: c.batchSize, committedAt, handledAt,
      sinceAppend, measured, slip, cpu: use, runnerBusy, foreign: await sampling,
    });
  } finally {
    await sub.stop();
  }
}

/**
 * How fast one subscription works off a backlog: `backlog` events are appended first (100
 * per transaction, to be quick), then the subscription starts; events/s from its start to
 * the last handler call. Above this rate lag can only grow; near it, the tail gets long.
 */
export async function measureDrain(target: BenchTarget, backlog: number, c: MeasureConfig) {
  const log = newLog();
  const stream = `bench-drain-${randomBytes(3).toString('hex')}`;
  const name = await subscriptionAtTail(target.db);
  for (let version = 1; version <= backlog; version += 100) {
    const events = Array.from({ length: Math.min(100, backlog - version + 1) }, (_, i) => productUpdated(stream, version + i));
    await target.db.transaction((tx) => log.append(tx, events));
  }
  let handled = 0;
  let last = 0;
  const meter = startCpuMeter(await target.backendPids());
  const started = performance.now();
  const sub = await startSubscription(target, log, c, name, () => {
    handled++;
    last = performance.now();
  });
  try {
    await until(() => handled >= backlog, c.drainMs * 2, null);
    const seconds = (last - started) / 1000;
    return {
      events: handled, backlog, seconds: round(seconds, 3), events_per_s: round(handled / seconds),
      round_trips_per_event: round(sub.traced.roundTrips() / Math.max(1, handled), 2), cpu: cpuReport(meter(), handled),
    };
  } finally {
    await sub.stop();
  }
}
