import type { StoredEvent } from '../events/index.js';
import type { BackoffPolicy } from '../shared/index.js';
import type { EventLog, Lease, Sql } from '../store/index.js';

/**
 * A consumer of the event log.
 *
 * Contract: `handle` runs inside a transaction that also moves the subscription's
 * checkpoint past the event, so its database effects happen exactly once per delivery; it
 * must not do slow I/O (its transaction holds back gap-safe readers, if it appends events,
 * and holds the checkpoint row in any case) — work that leaves the
 * database is written to an outbox and carried out by a worker. Events arrive one at a
 * time in log order (so in stream order). A replay delivers events again: handlers must be
 * idempotent or be reset before a replay.
 */
export interface Subscriber {
  readonly name: string;
  /** Event names this subscriber wants; others are skipped without a transaction. Undefined: all. */
  readonly eventNames?: readonly string[];
  readonly retry?: Partial<RetryPolicy>;
  /**
   * True when `handle` appends events itself: its transaction locks the log for appending
   * first (`handlerTransaction`), and other subscriptions are woken after it commits.
   */
  readonly appendsEvents?: boolean;
  handle(event: StoredEvent, tx: Sql): Promise<void>;
  /**
   * Delay this subscription accepts for fewer round trips: woken by a commit (or its poll),
   * it waits this long (ms) before reading, so the events committed meanwhile come as one batch (one
   * read, one transaction, one checkpoint move) instead of one each. Undefined or 0: read
   * at once, for subscriptions someone is watching live (the broadcaster). See
   * `BACKGROUND_GATHER_MS`.
   */
  readonly gatherMs?: number;
  /**
   * False when handling an event twice would count it twice (a counter projection). Such a
   * subscriber cannot take a range replay; it is rebuilt from the start instead (`reset`).
   */
  readonly idempotent?: boolean;
  /**
   * For projections: forget everything derived so far. A rebuild calls it in the same
   * transaction that moves the checkpoint back to the start of the log.
   */
  reset?(tx: Sql): Promise<void>;
}

/**
 * What subscriptions nobody watches live (counters, outgoing webhooks, notifications) wait
 * after a wake-up. At 200 commits/s this turns about ten reads and transactions into one
 * per subscription; each costs a few round trips that a busy node pays for in latency
 * everywhere else (measured in BENCHMARKS.md, "End to end").
 */
export const BACKGROUND_GATHER_MS = 50;

export interface RetryPolicy extends BackoffPolicy {
  /** Attempts before the event is parked as a dead letter (>= 1). */
  maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 60_000 };

export const accepts = (s: Subscriber, name: string) => s.eventNames === undefined || s.eventNames.includes(name);

/**
 * The transaction `handle` runs in, whoever calls it (live batches, dead-letter retries,
 * replays). A subscriber that appends events may write other rows first, so the log is
 * locked for appending before anything else (ADR 0011); once a transaction that did append
 * has committed, readers are woken.
 */
export async function handlerTransaction<T>(lease: Lease, log: EventLog, subscriber: Subscriber, fn: (tx: Sql) => Promise<T>): Promise<T> {
  let appended = false;
  const result = await lease.transaction(async (tx) => {
    if (subscriber.appendsEvents) await log.lockForAppend(tx);
    const out = await fn(tx);
    appended = log.appendedIn(tx);
    return out;
  });
  if (appended) log.committed();
  return result;
}
