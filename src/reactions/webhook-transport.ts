import type { Clock } from '../shared/index.js';
import type { ClaimedDelivery } from './delivery-outbox.js';
import { PermanentDeliveryFailure, type DeliveryTransport } from './delivery-transport.js';
import { reservedResolution } from './target-address.js';
import { WEBHOOK_HEADERS, signWebhook } from './webhook-signature.js';

export interface WebhookTransportOptions {
  clock: Clock;
  /** Allow endpoints on loopback/private networks (development and tests only). */
  allowPrivateTargets: boolean;
  userAgent?: string;
}

/**
 * Delivers a webhook: one signed HTTP POST of the event envelope to the endpoint's current
 * URL with its current secret. Any 2xx is success; redirects are not followed (a redirect
 * could lead the call into a private network) and count as failures like any other status.
 */
export class WebhookTransport implements DeliveryTransport {
  constructor(private readonly o: WebhookTransportOptions) {}

  async send(d: ClaimedDelivery, signal: AbortSignal): Promise<void> {
    if (!d.endpoint_url || !d.endpoint_secret) throw new PermanentDeliveryFailure(`endpoint ${d.endpoint_id} no longer exists`);
    const url = new URL(d.endpoint_url);
    if (!this.o.allowPrivateTargets) {
      const reserved = await reservedResolution(url.hostname, signal);
      if (reserved) throw new PermanentDeliveryFailure(`${url.hostname} resolves to a private address (${reserved})`);
    }
    const body = JSON.stringify(d.payload);
    const response = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      signal,
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': this.o.userAgent ?? 'StoreFlow-Webhooks/1',
        [WEBHOOK_HEADERS.signature]: signWebhook(d.endpoint_secret, body, this.o.clock.now()),
        [WEBHOOK_HEADERS.eventId]: d.source_event_id,
        [WEBHOOK_HEADERS.event]: d.event_name,
        [WEBHOOK_HEADERS.deliveryId]: String(d.id),
      },
    });
    // The answer's body is not ours to read; drop it so the connection is freed.
    await response.body?.cancel().catch(() => {});
    if (response.status < 200 || response.status > 299) throw new Error(`receiver answered HTTP ${response.status}`);
  }
}
