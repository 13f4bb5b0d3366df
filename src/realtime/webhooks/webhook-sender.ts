import { systemClock, type Clock } from '../../shared/index.js';
import type { AppRegistry, OccurrenceSink, RealtimeOccurrence, WebhookEventName } from '../contracts.js';
import { AppWebhookQueue } from './app-webhook-queue.js';
import { HoldBack } from './hold-back.js';
import type { WebhookLogger, WebhookRetryPolicy } from './webhook-delivery.js';

export interface WebhookSenderOptions {
  apps: AppRegistry;
  logger: WebhookLogger;
  clock?: Clock;
  /** How long channel_vacated / member_removed wait for the client to come back. */
  holdBackMs?: number;
  /** Occurrences of one app within this window after the first share a request. */
  batchWindowMs?: number;
  maxEventsPerBatch?: number;
  /** Per app, batches waiting behind the one in flight; past it the oldest is dropped. */
  maxQueuedBatches?: number;
  /** Held-back occurrences across apps; past it they are sent without waiting. */
  maxHeld?: number;
  requestTimeoutMs?: number;
  retry?: Partial<WebhookRetryPolicy>;
  /** On stop, how long queued batches may still take before they are dropped. */
  stopGraceMs?: number;
  random?: () => number;
}

export const WEBHOOK_SENDER_DEFAULTS = {
  holdBackMs: 3_000,
  batchWindowMs: 100,
  maxEventsPerBatch: 100,
  maxQueuedBatches: 100,
  maxHeld: 10_000,
  requestTimeoutMs: 5_000,
  retry: { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000 },
  stopGraceMs: 5_000,
} as const;

export interface WebhookSenderStats {
  held: number;
  bufferedEvents: number;
  queuedBatches: number;
  batchesInFlight: number;
  delivered: number;
  dropped: number;
}

/** What cancels what: a hold-back pair is worth tracking if the app wants either side. */
const PAIRED: Partial<Record<WebhookEventName, WebhookEventName>> = {
  channel_occupied: 'channel_vacated',
  channel_vacated: 'channel_occupied',
  member_added: 'member_removed',
  member_removed: 'member_added',
};

/**
 * Sends Pusher webhooks for what the WebSocket side reports. Contract: occurrences an app
 * did not subscribe to (`webhook.events`) are ignored; vacated/member_removed are held back
 * and dropped with their comeback (see HoldBack); the rest is batched per app, signed
 * (`X-Pusher-Key`, `X-Pusher-Signature` = hex HMAC-SHA256 of the raw body) and POSTed in
 * order, one batch in flight per app. Delivery is at least once within a bounded number of
 * attempts (timeouts and non-2xx are retried with backoff and jitter); then the batch is
 * logged and dropped. Nothing is persisted: a crash loses what was not yet delivered.
 *
 * `occurred` is synchronous and cheap; it is a no-op before `start()` and after `stop()`.
 */
export class WebhookSender implements OccurrenceSink {
  private readonly queues = new Map<string, AppWebhookQueue>();
  private readonly holdBack: HoldBack;
  private stopping = new AbortController();
  private running = false;
  private delivered = 0;
  private dropped = 0;

  constructor(private readonly o: WebhookSenderOptions) {
    this.holdBack = new HoldBack({
      delayMs: o.holdBackMs ?? WEBHOOK_SENDER_DEFAULTS.holdBackMs,
      maxHeld: o.maxHeld ?? WEBHOOK_SENDER_DEFAULTS.maxHeld,
      pass: (appId, occurrence) => this.enqueue(appId, occurrence),
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = new AbortController();
  }

  /**
   * Stops taking occurrences, lets held-back ones go, and gives queued batches up to
   * `stopGraceMs` (retries included); then aborts what is left, which is logged and dropped.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.holdBack.releaseAll();
    const queues = [...this.queues.values()];
    this.queues.clear();
    for (const q of queues) q.flush();
    const drained = Promise.all(queues.map((q) => q.idle()));
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.o.stopGraceMs ?? WEBHOOK_SENDER_DEFAULTS.stopGraceMs);
    });
    await Promise.race([drained, grace]);
    clearTimeout(timer);
    this.stopping.abort();
    await drained;
  }

  occurred(appId: string, occurrence: RealtimeOccurrence): void {
    if (!this.running) return;
    const wanted = this.o.apps.byId(appId)?.webhook?.events;
    if (!wanted) return;
    const pair = PAIRED[occurrence.name];
    if (!wanted.includes(occurrence.name) && !(pair && wanted.includes(pair))) return;
    this.holdBack.offer(appId, occurrence);
  }

  stats(): WebhookSenderStats {
    const queues = [...this.queues.values()];
    return {
      held: this.holdBack.size,
      bufferedEvents: queues.reduce((n, q) => n + q.buffered, 0),
      queuedBatches: queues.reduce((n, q) => n + q.queued, 0),
      batchesInFlight: queues.filter((q) => q.inFlight).length,
      delivered: this.delivered,
      dropped: this.dropped,
    };
  }

  /** Past the hold-back: filtered by the app's events now (its settings may have changed). */
  private enqueue(appId: string, occurrence: RealtimeOccurrence): void {
    const app = this.o.apps.byId(appId);
    if (!app?.webhook?.events.includes(occurrence.name)) return;
    this.queueOf(appId).add({ ...occurrence });
  }

  private queueOf(appId: string): AppWebhookQueue {
    let q = this.queues.get(appId);
    if (!q) {
      const d = WEBHOOK_SENDER_DEFAULTS;
      q = new AppWebhookQueue(
        appId,
        {
          apps: this.o.apps,
          logger: this.o.logger,
          random: this.o.random ?? Math.random,
          clock: this.o.clock ?? systemClock,
          requestTimeoutMs: this.o.requestTimeoutMs ?? d.requestTimeoutMs,
          retry: { ...d.retry, ...this.o.retry },
          batchWindowMs: this.o.batchWindowMs ?? d.batchWindowMs,
          maxEventsPerBatch: Math.max(1, this.o.maxEventsPerBatch ?? d.maxEventsPerBatch),
          maxQueuedBatches: Math.max(1, this.o.maxQueuedBatches ?? d.maxQueuedBatches),
          onOutcome: (outcome) => {
            if (outcome === 'delivered') this.delivered++;
            else this.dropped++;
          },
        },
        this.stopping.signal,
      );
      this.queues.set(appId, q);
    }
    return q;
  }
}
