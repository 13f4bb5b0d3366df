import { frames } from './frames.js';
import type { NodeState } from './node-state.js';
import { activityTimeoutSeconds, type ServerLimits } from './server-limits.js';
import type { Session } from './session.js';
import { NeverSubscribedError, PongNotReceivedError, type WireError } from './wire-errors.js';

/**
 * One heartbeat sweep over this node's connections. A connection idle for its app's
 * activity timeout gets `pusher:ping` and must then send something (pusher:pong, any frame,
 * an RFC 6455 ping) within `pongTimeoutMs`, else it is closed with 4201. A connection that
 * has neither subscribed nor signed in within `subscribeWithinMs` is closed with 4202.
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
    const idleMs = activityTimeoutSeconds(session.conn.app.activityTimeoutSeconds, limits) * 1000;
    if (now - session.conn.lastActivity >= idleMs) {
      session.pingSentAt = now;
      session.send(frames.ping());
    }
  }
}
