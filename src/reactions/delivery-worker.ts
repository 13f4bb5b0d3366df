import { deadLetterSql, type RetryPolicy } from '../pipeline/index.js';
import type { StoredEvent } from '../events/index.js';
import { backoffDelay, type Clock } from '../shared/index.js';
import type { Database, EventLog, Sql } from '../store/index.js';
import { DELIVERY_KINDS, deadLetterSubscription, deliverySql, type ClaimedDelivery, type DeliveryKind } from './delivery-outbox.js';
import { PermanentDeliveryFailure, type DeliveryLogger, type DeliveryTransport } from './delivery-transport.js';

export interface DeliveryWorkerOptions {
  db: Database;
  /** To name the source event in a dead letter. */
  log: EventLog;
  clock: Clock;
  transports: Record<DeliveryKind, DeliveryTransport>;
  retry: RetryPolicy;
  /** Longest one attempt may take before it is abandoned and counted as failed. */
  attemptTimeoutMs: number;
  /** Attempts in flight at once in this process. */
  concurrency: number;
  /** Longest the worker waits before looking for due deliveries again. */
  pollIntervalMs: number;
  logger: DeliveryLogger;
  random?: () => number;
}

/**
 * Works the `deliveries` outbox: claims due rows (FOR UPDATE SKIP LOCKED, so any number of
 * nodes can run a worker), sends each through its kind's transport with a per-attempt
 * timeout and at most `concurrency` in flight, then records the outcome. A failed attempt
 * is retried with exponential backoff and jitter; after the last one (or a permanent
 * failure) the delivery is parked and a dead letter `delivery:<kind>` names its source
 * event, so operators see it beside the pipeline's. An operator's retry of that dead letter
 * re-queues the parked deliveries of that kind for that event with fresh attempts.
 *
 * Delivery is at least once: an attempt whose outcome was not recorded (a crash, a claim
 * that outlived its window) is made again; receivers drop duplicates by source event id.
 */
export class DeliveryWorker {
  private stopped = true;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeUp: (() => void) | undefined;
  /** A wake-up that came while the loop was busy: its next sleep returns at once. */
  private woken = false;
  private lastRetryScan = 0;

  constructor(private readonly o: DeliveryWorkerOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Stops claiming; waits for attempts in flight (each bounded by the attempt timeout). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wake();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
    for (const t of Object.values(this.o.transports)) await t.close?.().catch(() => {});
  }

  /** Look for due deliveries now (call after a transaction that enqueued some has committed). */
  wake(): void {
    const resolve = this.wakeUp;
    this.wakeUp = undefined;
    if (resolve) resolve();
    else this.woken = true;
  }

  private now(): Date {
    return this.o.clock.now();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let claimed = 0;
      let free = 0;
      try {
        await this.requeueRequestedRetries();
        free = this.o.concurrency - this.inFlight.size;
        if (free > 0) claimed = await this.claimAndStart(free);
      } catch (err) {
        this.o.logger.error({ err }, 'delivery worker: could not claim deliveries');
      }
      // A full claim means more may be due at once; otherwise sleep until a wake-up, a
      // finished attempt (which frees a slot) or the poll interval.
      if (this.stopped || (free > 0 && claimed === free)) continue;
      await this.sleep(this.o.pollIntervalMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.wakeUp = () => resolve();
      this.wakeTimer = setTimeout(() => this.wake(), ms);
    }).finally(() => clearTimeout(this.wakeTimer));
  }

  private async claimAndStart(limit: number): Promise<number> {
    const now = this.now();
    // The claim outlives the attempt's timeout, so no other worker takes a row still in flight.
    const claimUntil = new Date(now.getTime() + 2 * this.o.attemptTimeoutMs + 5_000);
    const due = await deliverySql.claimDue(this.o.db, now, claimUntil, limit);
    for (const d of due) {
      const attempt = this.attempt(d).finally(() => {
        this.inFlight.delete(attempt);
        this.wake();
      });
      this.inFlight.add(attempt);
    }
    return due.length;
  }

  private async attempt(d: ClaimedDelivery): Promise<void> {
    try {
      if (d.kind === 'webhook' && d.endpoint_active === false) {
        await deliverySql.markCancelled(this.o.db, d.id, 'endpoint removed', this.now());
        return;
      }
      const controller = new AbortController();
      const timer = setTimeout(
        () => controller.abort(new Error(`no answer within ${this.o.attemptTimeoutMs} ms`)),
        this.o.attemptTimeoutMs,
      );
      try {
        await this.o.transports[d.kind].send(d, controller.signal);
      } finally {
        clearTimeout(timer);
      }
      await deliverySql.markDelivered(this.o.db, d.id, this.now());
    } catch (err) {
      await this.failed(d, err).catch((e: unknown) =>
        this.o.logger.error({ err: e, delivery_id: d.id }, 'delivery worker: could not record a failed attempt'),
      );
    }
  }

  private async failed(d: ClaimedDelivery, err: unknown): Promise<void> {
    const error = describe(err);
    const permanent = err instanceof PermanentDeliveryFailure;
    this.o.logger.warn({ delivery_id: d.id, kind: d.kind, attempts: d.attempts, error }, 'delivery attempt failed');
    if (!permanent && d.attempts < this.o.retry.maxAttempts) {
      const at = new Date(this.now().getTime() + backoffDelay(d.attempts, this.o.retry, this.o.random));
      await deliverySql.reschedule(this.o.db, d.id, error, at, this.now());
      return;
    }
    await this.o.db.transaction(async (tx) => {
      const now = this.now();
      if (!(await deliverySql.park(tx, d.id, error, now))) return;
      await deadLetterSql.park(tx, deadLetterSubscription(d.kind), await this.sourceEvent(tx, d), {
        error: `delivery ${d.id} to ${describeTarget(d)}: ${error}`,
        attempts: d.attempts,
        firstFailedAt: d.first_failed_at ?? now,
        lastFailedAt: now,
      });
    });
    this.o.logger.error({ delivery_id: d.id, kind: d.kind, attempts: d.attempts, error }, 'delivery parked as a dead letter');
  }

  /** The event a dead letter names; a stand-in built from the delivery if the event is gone. */
  private async sourceEvent(tx: Sql, d: ClaimedDelivery): Promise<StoredEvent> {
    const event = await this.o.log.readById(tx, d.source_event_id);
    if (event) return event;
    return {
      id: d.source_event_id, name: d.event_name, version: 0, stream: 'unknown', stream_version: 1, payload: {},
      metadata: { merchant_id: d.merchant_id, store_id: null, actor: { type: 'system', id: null }, correlation_id: d.source_event_id, causation_id: null, request_id: null },
      timestamp: d.created_at.toISOString(), source: 'unknown', position: 0, transaction_id: '0', checkpoint: '0.0',
    };
  }

  /** Dead letters of our kinds that an operator asked to retry: their parked deliveries go back in the queue. */
  private async requeueRequestedRetries(): Promise<void> {
    const now = this.now().getTime();
    if (now - this.lastRetryScan < this.o.pollIntervalMs) return;
    this.lastRetryScan = now;
    for (const kind of DELIVERY_KINDS) {
      const letters = await deadLetterSql.retryRequested(this.o.db, deadLetterSubscription(kind), 100);
      for (const letter of letters) {
        const requeued = await this.o.db.transaction(async (tx) => {
          if (!(await deliverySql.takeRetryRequest(tx, letter.id, this.now()))) return 0;
          return deliverySql.requeueParked(tx, kind, letter.event_id, this.now());
        });
        this.o.logger.info({ dead_letter_id: letter.id, kind, requeued }, 'dead-lettered deliveries re-queued');
      }
    }
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** A target fit for an operator's eyes: webhook URLs without their query (it may hold tokens). */
function describeTarget(d: ClaimedDelivery): string {
  if (d.kind !== 'webhook') return `${d.kind} ${d.target}`;
  const url = URL.canParse(d.endpoint_url ?? d.target) ? new URL(d.endpoint_url ?? d.target) : null;
  return `endpoint ${d.endpoint_id} (${url ? `${url.origin}${url.pathname}` : 'invalid URL'})`;
}
