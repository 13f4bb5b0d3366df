import { createHmac, randomBytes } from 'node:crypto';

/**
 * Webhook signatures. Every delivery carries
 * `StoreFlow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`:
 * the receiver recomputes it over the raw body it got, compares in constant time, and
 * refuses a `t` too far from its own clock (a replayed request). `StoreFlow-Event-Id` is
 * the same for every attempt of one event, so the receiver can drop duplicates.
 */
export const WEBHOOK_HEADERS = {
  signature: 'StoreFlow-Signature',
  eventId: 'StoreFlow-Event-Id',
  event: 'StoreFlow-Event',
  deliveryId: 'StoreFlow-Delivery-Id',
} as const;

export function signWebhook(secret: string, rawBody: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

/** A new endpoint secret: 32 random bytes, prefixed so it is recognisable in a leak scan. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}
