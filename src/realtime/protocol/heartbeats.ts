import { frames } from './frames.js';
import type { NodeState } from './node-state.js';
import { activityTimeoutSeconds, type ServerLimits } from './server-limits.js';
import type { Session } from './session.js';
import { NeverSubscribedError, PongNotReceivedError, type WireError } from './wire-errors.js';

/**
 * How much later than its app's activity timeout an idle connection may be pinged: each
 * connection waits the timeout plus a random share of this (drawn again after every ping).
 * Connections opened together (a load test, everyone reconnecting after a deploy) would
 * otherwise be pinged in one sweep, ten thousand writes and pongs in one event-loop turn:
 * measured, that wave alone pushed the end-to-end p99 from 51 to 150–330 ms. Pinging a
 * little late is harmless: clients ping on their own after the activity timeout.
 */
export const PING_SPREAD = 0.25;

/**
 * One heartbeat sweep over this node's connections. A connection idle for its app's
 * activity timeout (plus its share of `PING_SPREAD`) gets `pusher:ping` and must then send
 * something (pusher:pong, any frame, an RFC 6455 ping) within `pongTimeoutMs`, else it is
 * closed with 4201. A connection that has neither subscribed nor signed in within
 * `subscribeWithinMs` is closed with 4202.
 */
export function sweepHeartbeats(
  state: NodeState,
  limits: ServerLimits,
  now: number,
  kick: (session: Session, error: WireError) => void,
): void {
  for (const session of state.sessions()) {
    if (session.pingSentAt !== undefined) {
      if (now - session.pingSentAt >= limits.pongTimeoutMs) kick(session, new PongNotReceivedError());
      continue;
    }
    if (!session.engaged && now - session.openedAt >= limits.subscribeWithinMs) {
      kick(session, new NeverSubscribedError());
      continue;
    }
    const idleMs = activityTimeoutSeconds(session.conn.app.activityTimeoutSeconds, limits) * 1000 * (1 + PING_SPREAD * session.pingSlack);
    if (now - session.conn.lastActivity >= idleMs) {
      session.pingSentAt = now;
      session.pingSlack = Math.random();
      session.send(frames.ping());
    }
  }
}
