import type { Connection, PusherApp } from '../../src/realtime/index.js';

/** A protocol Connection in memory: what a transport would have written, kept as Buffers. */
export class MemoryConnection implements Connection {
  readonly sent: Buffer[] = [];
  closedWith: { code: number; reason: string } | undefined;
  lastActivity = 0;
  bufferedBytes = 0;

  constructor(
    readonly socketId: string,
    readonly app: PusherApp,
  ) {}

  send(bytes: Buffer): void {
    this.sent.push(bytes);
  }

  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
  }

  /** Sent frames, `data` decoded when it is a JSON string. */
  frames(event?: string): Array<{ event: string; channel?: string; data?: any; user_id?: string }> {
    return this.sent
      .map((b) => JSON.parse(b.toString()) as { event: string; channel?: string; data?: unknown; user_id?: string })
      .map((f) => ({ ...f, data: typeof f.data === 'string' ? tryJson(f.data) : f.data }))
      .filter((f) => event === undefined || f.event === event);
  }
}

const tryJson = (s: string): unknown => {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
};
