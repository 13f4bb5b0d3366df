import type { Subscriber } from '../channels/channel.js';
import type { RealtimeCounters } from '../metrics/realtime-counters.js';
import type { Connection } from './connection.js';
import { frames } from './frames.js';
import { SlowConsumerError, type WireError } from './wire-errors.js';

/**
 * What the protocol remembers about one open connection: its channels, the user it signed in
 * as, heartbeat state and its client-event budget. All writes go through `send`, which drops
 * a consumer that has fallen more than `maxBufferedBytes` behind.
 */
export class Session implements Subscriber {
  readonly channels = new Set<string>();
  userId: string | undefined;
  /** Subscribed or signed in at least once (connections that never do are reaped). */
  engaged = false;
  /** When a pusher:ping was sent and not yet answered by any frame. */
  pingSentAt: number | undefined;
  /** Where in the ping spread (heartbeats.ts) this connection's next ping falls, 0 to 1; drawn again after each ping. */
  pingSlack = Math.random();
  closed = false;
  private budgetSecond = -1;
  private budgetUsed = 0;

  constructor(
    readonly conn: Connection,
    readonly openedAt: number,
    private readonly maxBufferedBytes: number,
    private readonly counters: RealtimeCounters,
    /** Removes the session everywhere, sends the error and closes with its code. */
    private readonly kick: (session: Session, error: WireError) => void,
  ) {}

  get socketId(): string {
    return this.conn.socketId;
  }

  send(bytes: Buffer): void {
    if (this.closed) return;
    if (this.conn.bufferedBytes > this.maxBufferedBytes) {
      this.kick(this, new SlowConsumerError());
      return;
    }
    this.conn.send(bytes);
    this.counters.messagesOut += 1;
    this.counters.bytesOut += bytes.length;
  }

  /** Sends `pusher:error`; closes the connection too when the error says so. */
  fail(error: WireError): void {
    if (this.closed) return;
    if (error.closes) {
      this.kick(this, error);
      return;
    }
    this.conn.send(frames.error(error));
    this.counters.messagesOut += 1;
  }

  /** Spends one client event of this second's budget; false when it is used up. */
  spendClientEvent(now: number, perSecond: number): boolean {
    const second = Math.floor(now / 1000);
    if (second !== this.budgetSecond) {
      this.budgetSecond = second;
      this.budgetUsed = 0;
    }
    if (this.budgetUsed >= perSecond) return false;
    this.budgetUsed += 1;
    return true;
  }
}
