import type { StoredEvent } from '../events/index.js';
import type { RetryPolicy, Subscriber } from '../pipeline/index.js';
import type { RealtimeControl } from '../realtime/index.js';
import type { Clock } from '../shared/index.js';
import { BROADCAST_EVENT_NAMES, broadcastsFor } from './broadcast-mapping.js';

export interface BroadcasterOptions {
  /** This node's real-time side: the in-process fan-out today, a Redis publish later. */
  realtime: Pick<RealtimeControl, 'publish'>;
  /** StoreFlow's own Pusher app. */
  appId: string;
  clock: Clock;
  /** Events older than this are not published (0 = no limit); see below. */
  maxAgeMs: number;
}

/**
 * The subscription where StoreFlow events meet channels (ADR 0007). Contract:
 *
 * - Publishes from inside `handle`, before the checkpoint transaction commits: at least once.
 *   A batch rolled back, a retry or an operator replay publishes again; clients drop
 *   duplicates by `position`. The order write itself committed long before — nothing here
 *   can fail or roll it back.
 * - Publishing is an in-process call (or one Redis round trip) made before the checkpoint
 *   UPDATE, which is the transaction's first statement: BEGIN is only sent then
 *   (pg-database.ts), so a broadcast waits for no round trip after the read and holds no
 *   transaction open.
 * - A failed publish throws: the pipeline retries it with a short backoff, in order (later
 *   events wait, so a screen never sees them out of order), and parks it after the last
 *   attempt so the broadcasts go on. Parked or not, the event is in the log and clients
 *   recover it through catch-up.
 * - Events older than `maxAgeMs` are skipped: after downtime (or when the subscription is new
 *   on an old log) a burst of stale broadcasts helps no one — screens connecting now catch
 *   up over HTTP from their last position.
 * - An event carrying the author's socket id (X-Socket-ID) is not sent back to that socket.
 */
export class Broadcaster implements Subscriber {
  readonly name = 'broadcaster';
  readonly eventNames = BROADCAST_EVENT_NAMES;
  readonly idempotent = true;
  readonly retry: Partial<RetryPolicy> = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 5_000 };

  constructor(private readonly o: BroadcasterOptions) {}

  async handle(event: StoredEvent): Promise<void> {
    if (this.o.maxAgeMs > 0 && this.o.clock.now().getTime() - Date.parse(event.timestamp) > this.o.maxAgeMs) return;
    for (const b of broadcastsFor(event)) {
      await this.o.realtime.publish({
        appId: this.o.appId,
        channels: [b.channel],
        event: b.name,
        data: JSON.stringify(b.payload),
        excludeSocketId: event.metadata.socket_id,
      });
    }
  }
}
