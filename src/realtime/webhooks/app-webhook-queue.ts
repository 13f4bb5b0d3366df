import type { Clock } from '../../shared/index.js';
import type { RealtimeOccurrence } from '../contracts.js';
import { deliverWebhookBatch, type WebhookDeliveryDeps } from './webhook-delivery.js';

export interface AppWebhookQueueOptions extends WebhookDeliveryDeps {
  clock: Clock;
  /** Occurrences within this window after the first go out in one request. */
  batchWindowMs: number;
  maxEventsPerBatch: number;
  /** Batches waiting behind the one in flight; past it the oldest is dropped. */
  maxQueuedBatches: number;
  onOutcome(outcome: 'delivered' | 'dropped'): void;
}

/**
 * One app's webhook pipeline: buffers events for a short window, turns them into a signed
 * body `{"time_ms":…, "events":[…]}`, and delivers batches one at a time in order (so a
 * receiver never sees a vacated before its occupied). Memory is bounded: at most one
 * buffer of `maxEventsPerBatch` events plus `maxQueuedBatches` batches and one in flight.
 */
export class AppWebhookQueue {
  private buffer: RealtimeOccurrence[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly batches: string[] = [];
  private draining: Promise<void> | undefined;

  constructor(
    private readonly appId: string,
    private readonly o: AppWebhookQueueOptions,
    private readonly stop: AbortSignal,
  ) {}

  get buffered(): number {
    return this.buffer.length;
  }

  get queued(): number {
    return this.batches.length;
  }

  get inFlight(): boolean {
    return this.draining !== undefined;
  }

  add(event: RealtimeOccurrence): void {
    this.buffer.push(event);
    if (this.buffer.length >= this.o.maxEventsPerBatch) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), this.o.batchWindowMs);
  }

  flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.buffer.length === 0) return;
    const events = this.buffer;
    this.buffer = [];
    this.batches.push(JSON.stringify({ time_ms: this.o.clock.now().getTime(), events }));
    while (this.batches.length > this.o.maxQueuedBatches) {
      this.batches.shift();
      this.o.logger.warn({ appId: this.appId, maxQueuedBatches: this.o.maxQueuedBatches }, 'pusher webhook queue full: oldest batch dropped');
      this.o.onOutcome('dropped');
    }
    this.draining ??= this.drain();
  }

  /** Resolves once nothing is queued or in flight. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    await null; // start once the caller has recorded this drain as running
    try {
      for (let body = this.batches.shift(); body !== undefined; body = this.batches.shift()) {
        this.o.onOutcome(await deliverWebhookBatch(this.appId, body, this.o, this.stop));
      }
    } finally {
      // In the same tick as the last empty check, so a batch queued later starts a new drain.
      this.draining = undefined;
    }
  }
}
