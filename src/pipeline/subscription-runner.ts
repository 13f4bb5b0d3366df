import { parseCheckpoint, type Checkpoint, type StoredEvent } from '../events/index.js';
import type { Clock } from '../shared/index.js';
import type { Database, EventLog, Lease } from '../store/index.js';
import { deadLetterSql } from './dead-letters.js';
import type { PipelineObserver } from './pipeline-observer.js';
import { describe, replayBatch, retryDeadLetters } from './operator-requests.js';
import { backoffDelay } from '../shared/index.js';
import { DEFAULT_RETRY, accepts, handlerTransaction, type RetryPolicy, type Subscriber } from './subscriber.js';
import { CheckpointMoved, checkpointOf, subscriptionSql, type SubscriptionRow } from './subscription-store.js';
import { Wakeup } from './wakeup.js';

export interface RunnerOptions {
  db: Database;
  log: EventLog;
  clock: Clock;
  wakeup: Wakeup;
  observer: PipelineObserver;
  /** Names this process in `subscriptions.holder`. */
  holderId: string;
  pollIntervalMs: number;
  batchSize: number;
  /** How often a process without the lease tries to take it over. */
  leaseRetryMs: number;
  /** Called once this runner has given up its lease on stop, so a standby can take it at once. */
  released?: (subscription: string) => Promise<void>;
}

type Step = { kind: 'busy' } | { kind: 'idle' } | { kind: 'retry'; at: Date };

/**
 * Runs one subscription in this process while it holds the subscription's lease: reads the
 * log gap-safely from the stored checkpoint, hands each wanted event to the subscriber in
 * a transaction that also advances the checkpoint, retries a failing event with backoff,
 * parks it after the last attempt and moves on. Between batches it carries out operator
 * requests (dead-letter retries, replays) for its subscription, so they never run beside it.
 */
export class SubscriptionRunner {
  private readonly retry: RetryPolicy;
  private lease: Lease | null = null;
  private stopped = true;
  private loop: Promise<void> | undefined;
  private lastHeartbeat = 0;
  /** The subscription row as this runner last read or wrote it; null forces a re-read. */
  private known: SubscriptionRow | null = null;
  private lastRefresh = 0;
  private operatorWork = false;
  private heldBackMs = 0;
  /**
   * Wakes a runner waiting for the lease: on stop, or when the holder elsewhere says it let
   * the lease go. Commits must not make it retry the lease.
   */
  private readonly leaseSignal = new Wakeup();

  constructor(
    readonly subscriber: Subscriber,
    private readonly o: RunnerOptions,
  ) {
    this.retry = { ...DEFAULT_RETRY, ...subscriber.retry };
  }

  get name(): string {
    return this.subscriber.name;
  }

  get holdsLease(): boolean {
    return this.lease !== null;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.o.wakeup.notify();
    this.leaseSignal.notify();
    await this.loop;
    const held = this.lease !== null;
    await this.dropLease();
    if (held) await this.o.released?.(this.name);
  }

  /** Another process released this subscription's lease: try to take it now, not at the next retry. */
  leaseReleased(): void {
    if (!this.lease) this.leaseSignal.notify();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const mark = this.o.wakeup.mark();
      const leaseMark = this.leaseSignal.mark();
      try {
        const lease = this.lease ?? (await this.acquire());
        if (!lease) {
          await this.leaseSignal.wait(this.o.leaseRetryMs, leaseMark);
          continue;
        }
        const step = await this.step(lease);
        if (step.kind === 'idle') {
          await this.o.wakeup.wait(this.o.pollIntervalMs, mark);
          if (this.subscriber.gatherMs && !this.stopped) await new Promise((r) => setTimeout(r, this.subscriber.gatherMs));
        }
        if (step.kind === 'retry') await this.o.wakeup.wait(Math.min(this.o.pollIntervalMs, step.at.getTime() - this.now().getTime()), mark);
      } catch (e) {
        this.known = null;
        if (e instanceof CheckpointMoved) continue;
        this.o.observer.error(this.name, e);
        // A broken lease connection: give it up; this or another process takes over.
        await this.dropLease();
        if (!this.stopped) await new Promise((r) => setTimeout(r, Math.min(this.o.pollIntervalMs, 1_000)));
      }
    }
  }

  private async acquire(): Promise<Lease | null> {
    const lease = await this.o.db.tryLease(`subscription:${this.name}`);
    if (!lease) return null;
    this.lease = lease;
    void lease.lost.then(() => {
      if (this.lease === lease) {
        this.lease = null;
        this.o.observer.leaseLost(this.name);
      }
    });
    await subscriptionSql.ensure(lease, this.name);
    this.o.observer.leaseAcquired(this.name);
    return lease;
  }

  private async dropLease(): Promise<void> {
    const lease = this.lease;
    this.lease = null;
    if (lease) {
      await subscriptionSql.heartbeat(lease, this.name, null, this.now()).catch(() => {});
      await lease.release().catch(() => {});
    }
  }

  private now(): Date {
    return this.o.clock.now();
  }

  /** One unit of work: operator requests first, then one batch of the log. */
  /**
   * One unit of work. The subscription row is only re-read (and operator requests looked
   * for) once per poll interval, or while operator work is under way: between those, the
   * runner trusts what it last wrote, since it is the only writer of its checkpoint and any
   * other change (an operator reset) makes its next compare-and-set fail. So a busy log
   * costs a read and a commit per batch, not five queries per wake-up.
   */
  private async step(lease: Lease): Promise<Step> {
    const now = this.now().getTime();
    if (!this.known || this.operatorWork || now - this.lastRefresh >= this.o.pollIntervalMs) {
      const sub = await subscriptionSql.load(lease, this.name);
      if (!sub) throw new Error(`subscription ${this.name} vanished`);
      this.known = sub;
      this.lastRefresh = now;
      await this.heartbeat(lease);
      if (sub.paused) return { kind: 'idle' };
      const ctx = { lease, subscriber: this.subscriber, log: this.o.log, observer: this.o.observer, batchSize: this.o.batchSize };
      this.operatorWork = (await retryDeadLetters(ctx)) || (await replayBatch(ctx));
      if (this.operatorWork) return { kind: 'busy' };
    }
    if (this.known.paused) return { kind: 'idle' };
    return this.liveBatch(lease, this.known);
  }

  /** After this runner moved its own checkpoint: what the row now holds. */
  private remember(checkpoint: Checkpoint): void {
    if (!this.known) return;
    this.known = {
      ...this.known,
      checkpoint_tx: checkpoint.transactionId.toString(),
      checkpoint_pos: checkpoint.position,
      retry_event_id: null,
      retry_attempts: 0,
      retry_first_at: null,
      retry_error: null,
      next_retry_at: null,
    };
  }

  private async heartbeat(lease: Lease): Promise<void> {
    const now = this.now().getTime();
    if (now - this.lastHeartbeat < 5_000) return;
    this.lastHeartbeat = now;
    await subscriptionSql.heartbeat(lease, this.name, this.o.holderId, this.now());
  }

  private async liveBatch(lease: Lease, sub: SubscriptionRow): Promise<Step> {
    const events = await this.o.log.readAfter(lease, checkpointOf(sub), { limit: this.o.batchSize });
    if (events.length === 0) return this.heldBack(lease, sub);
    this.heldBackMs = 0;
    const more: Step = events.length === this.o.batchSize ? { kind: 'busy' } : { kind: 'idle' };
    if (sub.retry_event_id !== null || events.length === 1) return this.oneByOne(lease, sub, events, more);
    return this.wholeBatch(lease, sub, events, more);
  }

  /**
   * Nothing readable: either the log is drained, or events exist past the checkpoint but an
   * older transaction still in flight hides them. Nothing would wake us when that transaction
   * ends, so look again soon, backing off, instead of waiting for the next poll.
   */
  private async heldBack(lease: Lease, sub: SubscriptionRow): Promise<Step> {
    if (!(await this.o.log.hasEventsAfter(lease, checkpointOf(sub)))) {
      this.heldBackMs = 0;
      return { kind: 'idle' };
    }
    this.heldBackMs = Math.min(Math.max(5, this.heldBackMs * 2), this.o.pollIntervalMs);
    return { kind: 'retry', at: new Date(this.now().getTime() + this.heldBackMs) };
  }

  /**
   * The fast path: the batch in one transaction with one checkpoint move, so a busy log costs
   * one commit per batch instead of one per event. When an event fails, the batch is rolled
   * back, the events before it are committed again as one run, and the failure counts as
   * that event's first attempt, exactly as if the events had been handled one by one.
   */
  private async wholeBatch(lease: Lease, sub: SubscriptionRow, events: readonly StoredEvent[], more: Step): Promise<Step> {
    const from = checkpointOf(sub);
    let failed: { index: number; error: unknown } | undefined;
    try {
      await this.commitRun(lease, from, events, (index, error) => {
        failed = { index, error };
      });
      return more;
    } catch (e) {
      if (e instanceof CheckpointMoved || !failed) throw e;
    }
    const { index, error } = failed;
    const event = events[index] as StoredEvent;
    const before = events[index - 1];
    let current = from;
    if (before) {
      try {
        await this.commitRun(lease, from, events.slice(0, index), () => {});
      } catch (e) {
        if (e instanceof CheckpointMoved) throw e;
        return this.oneByOne(lease, sub, events, more);
      }
      current = parseCheckpoint(before.checkpoint);
    }
    const step = await this.recordFailure(lease, sub, event, current, error);
    return step ?? { kind: 'busy' };
  }

  /** Handles the wanted events of `run` and moves the checkpoint past its last event, in one transaction. */
  private async commitRun(
    lease: Lease,
    from: Checkpoint,
    run: readonly StoredEvent[],
    onFailure: (index: number, error: unknown) => void,
  ): Promise<void> {
    const last = run.at(-1);
    if (!last) return;
    let handled = 0;
    await handlerTransaction(lease, this.o.log, this.subscriber, async (tx) => {
      for (const [index, event] of run.entries()) {
        if (!accepts(this.subscriber, event.name)) continue;
        try {
          await this.subscriber.handle(event, tx);
        } catch (e) {
          onFailure(index, e);
          throw e;
        }
        handled++;
      }
      await subscriptionSql.advance(tx, this.name, from, parseCheckpoint(last.checkpoint), handled, this.now());
    });
    this.remember(parseCheckpoint(last.checkpoint));
    const now = this.now().getTime();
    for (const event of run) {
      if (accepts(this.subscriber, event.name)) this.o.observer.handled(this.name, event.name, now - Date.parse(event.timestamp));
    }
  }

  /**
   * Counts a failed attempt at `event` (whose predecessors are handled up to `current`):
   * schedules a retry with backoff, or parks it after the last attempt. Returns the retry
   * step, or null when the event was parked and the subscription may go on.
   */
  private async recordFailure(lease: Lease, sub: SubscriptionRow, event: StoredEvent, current: Checkpoint, e: unknown): Promise<Step | null> {
    this.known = null;
    const retrying = sub.retry_event_id === event.id;
    const attempts = (retrying ? sub.retry_attempts : 0) + 1;
    this.o.observer.failed(this.name, event.name, e, attempts);
    const error = describe(e);
    if (attempts < this.retry.maxAttempts) {
      const at = new Date(this.now().getTime() + backoffDelay(attempts, this.retry));
      await subscriptionSql.recordFailure(lease, this.name, event, attempts, error, at, this.now());
      return { kind: 'retry', at };
    }
    await this.park(lease, event, current, parseCheckpoint(event.checkpoint), {
      error,
      attempts,
      firstFailedAt: (retrying ? sub.retry_first_at : null) ?? this.now(),
    });
    return null;
  }

  private async oneByOne(lease: Lease, sub: SubscriptionRow, events: readonly StoredEvent[], more: Step): Promise<Step> {
    let current: Checkpoint = checkpointOf(sub);
    let skippedTo: Checkpoint | null = null;
    const flushSkipped = async () => {
      if (!skippedTo) return;
      await subscriptionSql.advance(lease, this.name, current, skippedTo, 0, this.now());
      this.remember(skippedTo);
      current = skippedTo;
      skippedTo = null;
    };
    for (const event of events) {
      if (this.stopped) break;
      const at = parseCheckpoint(event.checkpoint);
      if (!accepts(this.subscriber, event.name)) {
        skippedTo = at;
        continue;
      }
      await flushSkipped();
      const retrying = sub.retry_event_id === event.id;
      if (retrying && sub.next_retry_at && sub.next_retry_at > this.now()) return { kind: 'retry', at: sub.next_retry_at };
      try {
        await this.commitRun(lease, current, [event], () => {});
      } catch (e) {
        if (e instanceof CheckpointMoved) throw e;
        const step = await this.recordFailure(lease, sub, event, current, e);
        if (step) return step;
      }
      current = at;
    }
    await flushSkipped();
    return more;
  }

  private async park(
    lease: Lease,
    event: StoredEvent,
    from: Checkpoint,
    to: Checkpoint,
    f: { error: string; attempts: number; firstFailedAt: Date },
  ): Promise<void> {
    await lease.transaction(async (tx) => {
      await deadLetterSql.park(tx, this.name, event, { ...f, lastFailedAt: this.now() });
      await subscriptionSql.countFailure(tx, this.name);
      await subscriptionSql.advance(tx, this.name, from, to, 0, this.now());
    });
    this.o.observer.parked(this.name, event.name);
  }
}


