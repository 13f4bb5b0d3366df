import type { PusherApp } from '../contracts.js';

/**
 * One client connection as the protocol sees it: no socket types. The transport creates it
 * once the app is known and reports what happens to it to the PusherServer (open, message,
 * pong, close).
 */
export interface Connection {
  /** `^\d+\.\d+$`, unique on this node. */
  readonly socketId: string;
  readonly app: PusherApp;
  /** Writes one text frame. The transport may coalesce frames written in the same turn. */
  send(bytes: Buffer): void;
  /** Closes with a WebSocket close code; the transport reports `close` once it is gone. */
  close(code: number, reason: string): void;
  /** Bytes written but not yet flushed to the network. */
  readonly bufferedBytes: number;
  /** Milliseconds (server clock) of the last frame received, kept by the PusherServer. */
  lastActivity: number;
}
