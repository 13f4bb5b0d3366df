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

export interface RetryPolicy extends BackoffPolicy {
  /** Attempts before the event is parked as a dead letter (>= 1). */
  maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 60_000 };

export const accepts = (s: Subscriber, name: string) => s.eventNames === undefined || s.eventNames.includes(name);

/**
 * The transaction `handle` runs in, whoever calls it (live batches, dead-letter retries,
 * replays). A subscriber that appends events may write other rows first, so the log is
 * locked for appending before anything else (ADR 0011).
 */
export function handlerTransaction<T>(lease: Lease, log: EventLog, subscriber: Subscriber, fn: (tx: Sql) => Promise<T>): Promise<T> {
  return lease.transaction(async (tx) => {
    if (subscriber.appendsEvents) await log.lockForAppend(tx);
    return fn(tx);
  });
}
