import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, type BackoffPolicy } from '../../shared/index.js';
import type { AppRegistry } from '../contracts.js';
import { webhookSignature } from '../http-api/signature.js';

export interface WebhookRetryPolicy extends BackoffPolicy {
  /** Attempts per batch, the first included. */
  maxAttempts: number;
}

export interface WebhookLogger {
  warn(obj: object, msg: string): void;
}

export interface WebhookDeliveryDeps {
  apps: AppRegistry;
  retry: WebhookRetryPolicy;
  /** Longest one POST may take before it counts as failed. */
  requestTimeoutMs: number;
  logger: WebhookLogger;
  random: () => number;
}

/**
 * Delivers one batch body to its app's webhook URL: any 2xx is success; a non-2xx answer,
 * a network error or a timeout is retried with backoff until the policy's last attempt,
 * then the batch is logged and dropped. Every attempt sends the same bytes (so the same
 * signature), but the URL, key and secret are read afresh each time (an app changed or
 * removed meanwhile). `stop` aborts the attempt in flight and any further ones.
 */
export async function deliverWebhookBatch(
  appId: string,
  body: string,
  deps: WebhookDeliveryDeps,
  stop: AbortSignal,
): Promise<'delivered' | 'dropped'> {
  let lastError = '';
  let attempts = 0;
  for (let attempt = 1; attempt <= deps.retry.maxAttempts && !stop.aborted; attempt++) {
    attempts = attempt;
    const app = deps.apps.byId(appId);
    if (!app?.webhook) {
      deps.logger.warn({ appId }, 'pusher webhook dropped: the app no longer has a webhook');
      return 'dropped';
    }
    try {
      const res = await fetch(app.webhook.url, {
        method: 'POST',
        body,
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(deps.requestTimeoutMs), stop]),
        headers: {
          'Content-Type': 'application/json',
          'X-Pusher-Key': app.key,
          'X-Pusher-Signature': webhookSignature(app.secret, body),
        },
      });
      // The answer's body is not ours to read; drop it so the connection is freed.
      await res.body?.cancel().catch(() => {});
      if (res.status >= 200 && res.status <= 299) return 'delivered';
      lastError = `HTTP ${res.status}`;
    } catch (e) {
      lastError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    if (attempt < deps.retry.maxAttempts) {
      await sleep(backoffDelay(attempt, deps.retry, deps.random), undefined, { signal: stop }).catch(() => {});
    }
  }
  deps.logger.warn(
    { appId, attempts, lastError, stopped: stop.aborted },
    'pusher webhook batch given up and dropped',
  );
  return 'dropped';
}
