import { hostname } from 'node:os';
import type { Clock } from '../shared/index.js';
import type { Database, EventLog } from '../store/index.js';
import { silentObserver, type PipelineObserver } from './pipeline-observer.js';
import type { Subscriber } from './subscriber.js';
import { SubscriptionRunner } from './subscription-runner.js';
import { Wakeup } from './wakeup.js';

export const EVENTS_CHANNEL = 'storeflow_events';
/**
 * Payload prefix on EVENTS_CHANNEL of "I released the lease of subscription <name>" (sent on
 * a clean stop): standbys take it at once instead of at their next lease retry. Holder ids
 * (`<hostname>:<pid>`) never start with it.
 */
const RELEASED = 'released:';

export interface PipelineOptions {
  db: Database;
  log: EventLog;
  clock: Clock;
  observer?: PipelineObserver;
  /** Upper bound on delivery delay when every wake-up is lost (ms). */
  pollIntervalMs?: number;
  batchSize?: number;
  leaseRetryMs?: number;
}

/**
 * The event pipeline of one process: a runner per subscription, woken right after a local
 * commit (in-process signal) or a commit on another node (LISTEN/NOTIFY hint), and by
 * polling regardless. Each subscription runs in exactly one process at a time, whichever
 * holds its lease; the others stand by to take over.
 */
export class Pipeline {
  readonly wakeup = new Wakeup();
  private readonly runners: SubscriptionRunner[] = [];
  private unlisten: (() => Promise<void>) | undefined;
  private notifyTimer: NodeJS.Timeout | undefined;
  readonly holderId = `${hostname()}:${process.pid}`;

  constructor(private readonly o: PipelineOptions) {}

  register(subscriber: Subscriber): this {
    if (this.runners.some((r) => r.name === subscriber.name)) throw new Error(`subscription ${subscriber.name} registered twice`);
    this.runners.push(
      new SubscriptionRunner(subscriber, {
        db: this.o.db,
        log: this.o.log,
        clock: this.o.clock,
        wakeup: this.wakeup,
        observer: this.o.observer ?? silentObserver,
        holderId: this.holderId,
        pollIntervalMs: this.o.pollIntervalMs ?? 1_000,
        batchSize: this.o.batchSize ?? 100,
        leaseRetryMs: this.o.leaseRetryMs ?? 2_000,
        released: (name) => this.announceRelease(name),
      }),
    );
    return this;
  }

  get subscriptions(): readonly string[] {
    return this.runners.map((r) => r.name);
  }

  async start(): Promise<void> {
    // Our own NOTIFYs come back to us too; the local signal already woke the runners.
    this.unlisten = await this.o.db.listen(EVENTS_CHANNEL, (payload) => {
      if (payload.startsWith(RELEASED)) {
        const name = payload.slice(RELEASED.length);
        this.runners.find((r) => r.name === name)?.leaseReleased();
      } else if (payload === '') {
        // (Re)connected: commits and releases announced while we were not listening are lost,
        // so look for events, and try each lease we do not hold, once now.
        this.wakeup.notify();
        for (const r of this.runners) r.leaseReleased();
      } else if (payload !== this.holderId) this.wakeup.notify();
    });
    for (const r of this.runners) r.start();
  }

  /** Stops every runner once its batch in flight has committed; leases are released and announced. */
  async stop(): Promise<void> {
    clearTimeout(this.notifyTimer);
    await this.unlisten?.();
    await Promise.all(this.runners.map((r) => r.stop()));
  }

  private async announceRelease(subscription: string): Promise<void> {
    if (this.o.db.kind === 'pglite') return;
    await this.o.db.query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, RELEASED + subscription]).catch(() => {});
  }

  /**
   * Call after a transaction that appended events has committed: wakes local runners at
   * once and, at most every few milliseconds, tells other nodes. The NOTIFY is sent outside
   * the writer's transaction so it never adds to a command's commit.
   */
  committed(): void {
    this.wakeup.notify();
    if (this.o.db.kind === 'pglite' || this.notifyTimer) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = undefined;
      this.o.db.query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, this.holderId]).catch(() => {});
    }, 5);
  }
}
