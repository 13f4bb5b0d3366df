import type { ClaimedDelivery } from './delivery-outbox.js';

/**
 * Carries out one attempt of one delivery (an email, a webhook call, …).
 *
 * Contract: resolves once the target has accepted the message; throws otherwise. It must
 * give up when `signal` aborts (the attempt's timeout or the worker stopping). It may be
 * called again for the same delivery (retries; a worker that died mid-attempt), so what it
 * sends must let the receiver drop duplicates (the source event id travels with it).
 */
export interface DeliveryTransport {
  send(delivery: ClaimedDelivery, signal: AbortSignal): Promise<void>;
  close?(): Promise<void>;
}

/** A failure that another attempt cannot fix: the delivery is parked at once. */
export class PermanentDeliveryFailure extends Error {
  override readonly name = 'PermanentDeliveryFailure';
}

export interface DeliveryLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * The transport of a channel with no provider configured (email without SMTP_URL, SMS,
 * push): it logs the message and counts it delivered, so the outbox does not fill up.
 */
export class LoggingTransport implements DeliveryTransport {
  constructor(
    private readonly channel: string,
    private readonly logger: DeliveryLogger,
  ) {}

  async send(d: ClaimedDelivery): Promise<void> {
    this.logger.info(
      { delivery_id: d.id, channel: this.channel, target: d.target, event: d.event_name, payload: d.payload },
      `${this.channel} delivery (no provider configured; logged only)`,
    );
  }
}

/** Rejects with the signal's reason once it aborts. */
export function abortion(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
