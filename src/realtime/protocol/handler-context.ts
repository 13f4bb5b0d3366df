import type { Fanout } from '../fanout/fanout.js';
import type { RealtimeCounters } from '../metrics/realtime-counters.js';
import type { ClientMessage } from './client-message.js';
import type { AppState } from './node-state.js';
import type { ServerLimits } from './server-limits.js';
import type { Session } from './session.js';

/** What event handlers may use besides the session and its app's state. */
export interface HandlerContext {
  readonly fanout: Fanout;
  readonly limits: ServerLimits;
  readonly counters: RealtimeCounters;
  now(): number;
  reportError(error: unknown): void;
  /** Answers a refusal met after the handler returned (an asynchronous subscribe). */
  refuse(session: Session, error: unknown): void;
}

/**
 * Handles one client message. Refuses by throwing a WireError (sent as pusher:error) or a
 * SubscriptionError (sent as pusher:subscription_error); anything else is a server bug.
 */
export type EventHandler = (message: ClientMessage, session: Session, state: AppState, ctx: HandlerContext) => void;
