import { onTestFinished } from 'vitest';
import { START, compareCheckpoints, formatCheckpoint, parseCheckpoint, type Checkpoint, type NewEvent, type StoredEvent } from '../../src/events/index.js';
import { Pipeline, PipelineAdmin, silentObserver, subscriptionSql, type PipelineObserver, type Subscriber } from '../../src/pipeline/index.js';
import { fixedClock, systemClock } from '../../src/shared/index.js';
import { EventLog, type Database, type Sql } from '../../src/store/index.js';
import { T0, productEvent, settleLog, unique } from './store-fixtures.js';
import { waitFor } from './waiting.js';

/**
 * Running pipelines in a test process for the pipeline contract suites: fast settings,
 * subscriptions placed at the log's tail, waiting for checkpoints, appending events.
 */
/** Small, fast settings so the suites exercise batching, retries and takeover quickly. */
export const FAST_PIPELINE = { pollIntervalMs: 25, batchSize: 4, leaseRetryMs: 50 } as const;

export interface RunningPipeline {
  pipeline: Pipeline;
  /** Stops the pipeline once; later calls do nothing. */
  stop(): Promise<void>;
}

/**
 * Starts a Pipeline with `subscribers` on the system clock (retries wait for real time) and
 * stops it when the current test finishes, whatever its outcome.
 */
export async function startPipeline(
  db: Database,
  log: EventLog,
  subscribers: readonly Subscriber[],
  options: { observer?: PipelineObserver } = {},
): Promise<RunningPipeline> {
  const pipeline = new Pipeline({ db, log, clock: systemClock, observer: options.observer ?? silentObserver, ...FAST_PIPELINE });
  for (const s of subscribers) pipeline.register(s);
  const unhook = log.onCommitted(() => pipeline.committed());
  await pipeline.start();
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      unhook();
      await pipeline.stop();
    })();
    return stopping;
  };
  onTestFinished(stop);
  return { pipeline, stop };
}

/**
 * The checkpoint of the last event in the log, once settled. (Ordered by the xid8 column
 * itself: ordering by its text would put transaction 999 after 1000.)
 */
export async function logTail(db: Database): Promise<Checkpoint> {
  await settleLog(db);
  const [row] = await db.query<{ tx: string; position: number }>(
    'SELECT transaction_id::text AS tx, position FROM events ORDER BY events.transaction_id DESC, events.position DESC LIMIT 1',
  );
  return row ? { transactionId: BigInt(row.tx), position: Number(row.position) } : START;
}

/** Creates the subscription (if need be) and puts its checkpoint at `at`, e.g. the log's tail. */
export async function subscribeFrom(db: Database, name: string, at: Checkpoint): Promise<void> {
  await subscriptionSql.ensure(db, name);
  await subscriptionSql.reset(db, name, at);
}

export async function checkpointNow(db: Sql, name: string): Promise<string | null> {
  const [row] = await db.query<{ cp: string }>(
    `SELECT checkpoint_tx::text || '.' || checkpoint_pos AS cp FROM subscriptions WHERE name = $1`,
    [name],
  );
  return row?.cp ?? null;
}

export async function waitForCheckpoint(db: Sql, name: string, at: Checkpoint | string, timeoutMs?: number): Promise<void> {
  const want = typeof at === 'string' ? at : formatCheckpoint(at);
  await waitFor(`subscription ${name} at ${want}`, async () => (await checkpointNow(db, name)) === want, timeoutMs);
}

/**
 * Waits until the subscription has handled everything up to `at` (its checkpoint at or past
 * it). For subscriptions that append events themselves (the notifier), whose checkpoint
 * moves on past a tail read a moment ago.
 */
export async function waitForCheckpointPast(db: Sql, name: string, at: Checkpoint, timeoutMs?: number): Promise<void> {
  await waitFor(`subscription ${name} at or past ${formatCheckpoint(at)}`, async () => {
    const now = await checkpointNow(db, name);
    return now !== null && compareCheckpoints(parseCheckpoint(now), at) >= 0;
  }, timeoutMs);
}

/** Appends `events` in one transaction and tells the pipeline (in-process wake-up). */
export async function appendCommitted(db: Database, log: EventLog, events: readonly NewEvent[]): Promise<StoredEvent[]> {
  const stored = await db.transaction((tx) => log.append(tx, events));
  log.committed();
  return stored;
}

/** A valid NotificationCreated: a second event type for name filters. */
export function notificationEvent(o: { stream: string; version: number; merchantId?: number; storeId?: number }): NewEvent {
  return {
    name: 'NotificationCreated',
    version: 1,
    stream: o.stream,
    stream_version: o.version,
    payload: {
      notification_key: `${o.stream}:${o.version}`,
      merchant_id: o.merchantId ?? 1,
      store_id: o.storeId ?? null,
      kind: 'probe',
      title: 'Probe notification',
      body: '',
      link: null,
      user_ids: [],
      source_event_id: null,
      timestamp: T0.toISOString(),
    },
    metadata: {
      merchant_id: o.merchantId ?? 1,
      store_id: o.storeId ?? null,
      actor: { type: 'system', id: null },
      correlation_id: 'corr-pipeline',
      causation_id: null,
      request_id: null,
    },
  };
}

/**
 * What a pipeline contract suite needs over its database. Appends take their time from
 * `appendClock`, which tests move forward for time windows; it only goes forward, so each
 * test's events are later than the previous test's. Pipelines run on the system clock, so
 * retries wait for real time.
 */
export function pipelineSuite(db: () => Database) {
  const appendClock = fixedClock(T0);
  const log = new EventLog('storeflow-pipeline-contract', () => appendClock.now());
  return {
    appendClock,
    log,
    /** A subscription of its own for one test, starting at the log's current tail. */
    async freshSubscription(prefix: string): Promise<string> {
      const name = `${prefix}-${unique()}`;
      await subscribeFrom(db(), name, await logTail(db()));
      return name;
    },
    /** Appends each event in a transaction of its own, in order. */
    async appendEach(events: readonly NewEvent[]): Promise<StoredEvent[]> {
      const stored: StoredEvent[] = [];
      for (const e of events) stored.push(...(await appendCommitted(db(), log, [e])));
      return stored;
    },
    /** `n` ProductUpdated events, each the first of a stream of its own. */
    products: (n: number, storeId = unique()) => Array.from({ length: n }, () => productEvent({ productId: unique(), version: 1, storeId })),
    admin: (subscribers: readonly Subscriber[]) => new PipelineAdmin(db(), subscribers, systemClock),
  };
}

/** Event ids of stored events or of deliveries, for comparing sequences. */
export const idsOf = (events: readonly ({ id: string } | { event_id: string })[]) => events.map((e) => ('event_id' in e ? e.event_id : e.id));
