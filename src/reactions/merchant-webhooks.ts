import type { StoredEvent } from '../events/index.js';
import { BACKGROUND_GATHER_MS, type Subscriber } from '../pipeline/index.js';
import type { Clock } from '../shared/index.js';
import type { Sql } from '../store/index.js';
import { deliverySql } from './delivery-outbox.js';
import { WEBHOOK_EVENT_TYPES, webhookEndpointSql } from './webhook-endpoints.js';

/**
 * The body of every webhook call: the event's envelope as the log holds it (upcast to the
 * current version), without the log's internal transaction id.
 */
export function webhookBody(event: StoredEvent): Record<string, unknown> {
  return {
    id: event.id,
    name: event.name,
    version: event.version,
    timestamp: event.timestamp,
    source: event.source,
    stream: event.stream,
    stream_version: event.stream_version,
    position: event.position,
    metadata: event.metadata,
    payload: event.payload,
  };
}

/**
 * Fans each event out to the merchant's active webhook endpoints subscribed to its type:
 * one `deliveries` row per endpoint, written in the subscription's transaction; the
 * DeliveryWorker signs and sends them. Unique per (endpoint, event), so a retried or
 * replayed event enqueues nothing new. An endpoint receives what the subscription handles
 * while it is active (so, after a replay, older events too).
 */
export class MerchantWebhooks implements Subscriber {
  readonly name = 'merchant-webhooks';
  readonly eventNames = WEBHOOK_EVENT_TYPES;
  readonly gatherMs = BACKGROUND_GATHER_MS;

  constructor(private readonly o: { clock: Clock }) {}

  async handle(event: StoredEvent, tx: Sql): Promise<void> {
    const merchantId = event.metadata.merchant_id;
    if (merchantId === null) return;
    const endpoints = await webhookEndpointSql.subscribedTo(tx, merchantId, event.name);
    if (endpoints.length === 0) return;
    const payload = webhookBody(event);
    const now = this.o.clock.now();
    for (const endpoint of endpoints) {
      await deliverySql.enqueue(
        tx,
        { kind: 'webhook', merchantId, target: endpoint.url, endpointId: endpoint.id, payload, sourceEventId: event.id, eventName: event.name },
        now,
      );
    }
  }
}
