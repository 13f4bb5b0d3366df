import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import type { PusherApp } from '../contracts.js';
import type { Connection } from '../protocol/connection.js';
import type { TextFrames, TurnFlusher } from './text-frames.js';

/** WebSocket close reasons are limited to 123 bytes of UTF-8. */
export function closeReason(text: string): string {
  let out = text;
  while (Buffer.byteLength(out, 'utf8') > 123) out = out.slice(0, -1);
  return out;
}

/**
 * A `ws` socket as a protocol Connection. Payloads are framed once per message for all
 * sockets (TextFrames) and written straight to the TCP socket: with compression off, ws's own
 * sender writes synchronously too, so frames never interleave, and ws's `bufferedAmount`
 * still counts them. Frames written in one turn of the event loop are coalesced: the first
 * write corks the socket and the transport's TurnFlusher uncorks it after the turn, so a burst
 * of fan-out messages leaves in one write. A closing socket that does not finish the close
 * handshake within `closeGraceMs` is cut.
 */
export class WsConnection implements Connection {
  lastActivity = 0;
  private corked = false;
  /** Bytes written since the socket was corked in this turn. */
  private corkedBytes = 0;

  constructor(
    readonly socketId: string,
    readonly app: PusherApp,
    private readonly ws: WebSocket,
    private readonly socket: Duplex,
    private readonly closeGraceMs: number,
    private readonly textFrames: TextFrames,
    private readonly flusher: TurnFlusher,
  ) {}

  /**
   * The backlog from earlier turns: what this turn wrote (still corked) does not count, so
   * a burst of messages to a healthy reader is not mistaken for a reader that fell behind.
   */
  get bufferedBytes(): number {
    return Math.max(0, this.ws.bufferedAmount - this.corkedBytes);
  }

  send(bytes: Buffer): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const frame = this.textFrames.of(bytes);
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      this.flusher.hold(this);
    }
    this.corkedBytes += frame.length;
    this.socket.write(frame);
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.CLOSING || this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close(code, closeReason(reason));
    const cut = setTimeout(() => this.ws.terminate(), this.closeGraceMs);
    cut.unref();
    this.ws.once('close', () => clearTimeout(cut));
  }

  /** Called by the TurnFlusher once the turn that corked this socket is over. */
  flushed(): void {
    this.corked = false;
    this.corkedBytes = 0;
    this.socket.uncork();
  }
}
