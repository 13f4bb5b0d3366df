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
 * A sweep interval is covered in this many ticks, each visiting the next share of the
 * connections: every connection is still looked at once per interval, but the pings due
 * (and the pongs they bring back) leave in small groups, not as one burst per interval.
 * At 10,000 connections a whole-node sweep every second was 1,000+ writes and pongs in one
 * event-loop turn during a ping wave, a stall every HTTP request and broadcast waited for.
 */
export const SWEEP_SLICES = 10;

/**
 * The heartbeat sweep over this node's connections, a slice per `tick` (run it every
 * `sweepIntervalMs / SWEEP_SLICES`). A connection idle for its app's activity timeout
 * (plus its share of `PING_SPREAD`) gets `pusher:ping` and must then send something
 * (pusher:pong, any frame, an RFC 6455 ping) within `pongTimeoutMs`, else it is closed with
 * 4201. A connection that has neither subscribed nor signed in within `subscribeWithinMs`
 * is closed with 4202.
 */
export class HeartbeatSweep {
  /** Where the current pass stands; connections opened during a pass are visited in it. */
  private cursor: Iterator<Session> | undefined;

  constructor(
    private readonly state: Pick<NodeState, 'sessions' | 'connectionCount'>,
    private readonly limits: ServerLimits,
    private readonly kick: (session: Session, error: WireError) => void,
  ) {}

  /** Visits the next share of the connections, going on with a new pass when one ends. */
  tick(now: number): void {
    for (let budget = Math.ceil(this.state.connectionCount / SWEEP_SLICES); budget > 0; budget--) {
      let next = this.cursor?.next();
      if (!next || next.done) {
        this.cursor = this.state.sessions()[Symbol.iterator]();
        next = this.cursor.next();
        if (next.done) return;
      }
      this.check(next.value, now);
    }
  }

  private check(session: Session, now: number): void {
    const { limits } = this;
    if (session.pingSentAt !== undefined) {
      if (now - session.pingSentAt >= limits.pongTimeoutMs) this.kick(session, new PongNotReceivedError());
      return;
    }
    if (!session.engaged && now - session.openedAt >= limits.subscribeWithinMs) {
      this.kick(session, new NeverSubscribedError());
      return;
    }
    const idleMs = activityTimeoutSeconds(session.conn.app.activityTimeoutSeconds, limits) * 1000 * (1 + PING_SPREAD * session.pingSlack);
    if (now - session.conn.lastActivity >= idleMs) {
      session.pingSentAt = now;
      session.pingSlack = Math.random();
      session.send(frames.ping());
    }
  }
}
