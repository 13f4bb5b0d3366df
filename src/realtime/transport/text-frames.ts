import * as ws from 'ws';

/** ws's frame builder (exported by the package, absent from @types/ws). */
interface SenderStatics {
  frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[];
}
const { Sender } = ws as unknown as { Sender: SenderStatics };

const TEXT = 0x1;

/**
 * Server-to-client text frames (unmasked, uncompressed), built by ws's own framer once per
 * payload: fan-out hands the same payload Buffer to every subscriber, so remembering the
 * last one turns 10,000 framings (header allocation, two-chunk writes) into one, and each
 * socket gets a single ready Buffer.
 */
export class TextFrames {
  private payload: Buffer | undefined;
  private framed: Buffer | undefined;

  of(payload: Buffer): Buffer {
    if (payload !== this.payload) {
      const parts = Sender.frame(payload, { fin: true, opcode: TEXT, mask: false, readOnly: true, rsv1: false });
      this.framed = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      this.payload = payload;
    }
    return this.framed!;
  }
}

/**
 * Write coalescing for a whole transport: a socket written to in this turn of the event loop
 * is corked once, and one setImmediate uncorks every such socket, so a burst of messages to a
 * socket leaves in one write and a broadcast costs one timer, not one per socket.
 */
export class TurnFlusher {
  private pending: { flushed(): void }[] = [];

  hold(target: { flushed(): void }): void {
    if (this.pending.length === 0) setImmediate(this.flush);
    this.pending.push(target);
  }

  private readonly flush = (): void => {
    const due = this.pending;
    this.pending = [];
    for (const target of due) target.flushed();
  };
}
