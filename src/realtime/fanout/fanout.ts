import type { Publication } from '../contracts.js';

/**
 * What one node tells every node (itself included).
 * - `event`: deliver to the local subscribers of each channel, except `excludeSocketId`.
 *   `origin: 'server'` events (HTTP API, in-process publishers) also refresh cache channels;
 *   `origin: 'client'` events are client-* events, with the sender's presence user id.
 * - `terminate_user`: close the local connections signed in as that user.
 * - `member`: a user became a member of a presence channel somewhere in the cluster (their
 *   first connection anywhere) or stopped being one (their last connection anywhere left, or
 *   the node holding it died): every node tells its local subscribers of the channel, but
 *   `excludeSocketId` (the joining connection). `userInfo` is the member's user_info as JSON.
 * - `count`: the cluster-wide subscription count of a channel changed (for apps that opted in
 *   to pusher_internal:subscription_count).
 */
export type FanoutMessage =
  | { kind: 'event'; publication: Publication; origin: 'server' | 'client'; userId?: string | undefined }
  | { kind: 'terminate_user'; appId: string; userId: string }
  | {
      kind: 'member';
      appId: string;
      channel: string;
      change: 'added' | 'removed';
      userId: string;
      userInfo?: string | undefined;
      excludeSocketId?: string | undefined;
    }
  | { kind: 'count'; appId: string; channel: string; count: number };

export type FanoutHandler = (message: FanoutMessage) => void;

/**
 * The shared medium (Redis) did not take a message or answer a question: it is down, or
 * did not answer in time. Callers may retry later; the HTTP API answers 503.
 */
export class MediumUnavailableError extends Error {
  override readonly name = 'MediumUnavailableError';

  constructor(cause: unknown) {
    super(`The cluster's medium is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * The fan-out port. Contract (checked by one test suite against every adapter):
 * - a message published on any node reaches every handler registered on every node exactly
 *   once, including the publishing node's own handlers;
 * - messages from one publisher arrive in the order they were published;
 * - the message arrives intact (`data` byte-for-byte, `excludeSocketId`, `userId`);
 * - `publish` resolves once the message is handed to the medium (for the local adapter:
 *   after local delivery); it rejects when the medium is unavailable, and the caller decides
 *   what that means (the HTTP API answers 5xx; a client event is dropped);
 * - a handler that throws does not stop delivery to the others;
 * - the function returned by `onMessage` removes the handler.
 * Delivery is at most once across a medium outage: nothing is queued while it is down (the
 * event log, not the fan-out, is what makes StoreFlow's broadcasts lossless).
 */
export interface Fanout {
  publish(message: FanoutMessage): Promise<void>;
  onMessage(handler: FanoutHandler): () => void;
  /** Releases connections to the medium; publish rejects afterwards. */
  close(): Promise<void>;
}
