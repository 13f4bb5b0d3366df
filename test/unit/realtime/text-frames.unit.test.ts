import * as ws from 'ws';
import { describe, expect, it } from 'vitest';
import { TextFrames, TurnFlusher } from '../../../src/realtime/transport/text-frames.js';

/** ws's own parser, client side (it accepts only unmasked frames from a server). */
interface ReceiverInstance {
  write(chunk: Buffer): void;
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
}
const { Receiver } = ws as unknown as { Receiver: new (options: { isServer: boolean; maxPayload: number }) => ReceiverInstance };

function parse(frame: Buffer): { data: string; isBinary: boolean }[] {
  const receiver = new Receiver({ isServer: false, maxPayload: 1 << 20 });
  const out: { data: string; isBinary: boolean }[] = [];
  receiver.on('message', (data, isBinary) => out.push({ data: data.toString('utf8'), isBinary }));
  receiver.on('error', (e) => {
    throw e;
  });
  receiver.write(frame);
  return out;
}

describe('TextFrames', () => {
  it.each([0, 125, 126, 200, 65_535, 65_536, 70_000])('frames a %i-byte payload as one text frame a WebSocket client reads back', (size) => {
    const payload = Buffer.from('é'.repeat(Math.floor(size / 2)) + 'x'.repeat(size % 2), 'utf8');
    expect(parse(new TextFrames().of(payload))).toEqual([{ data: payload.toString('utf8'), isBinary: false }]);
  });

  it('frames a payload once for every socket it goes to, and a new payload anew', () => {
    const frames = new TextFrames();
    const a = Buffer.from('{"event":"a"}');
    const b = Buffer.from('{"event":"a"}');
    const first = frames.of(a);
    expect(frames.of(a)).toBe(first);
    const other = frames.of(b);
    expect(other).not.toBe(first);
    expect(other.equals(first)).toBe(true);
  });
});

describe('TurnFlusher', () => {
  it('flushes every target held in one turn once, after the turn', async () => {
    const flusher = new TurnFlusher();
    const flushed: string[] = [];
    const target = (name: string) => ({ flushed: () => flushed.push(name) });
    flusher.hold(target('a'));
    flusher.hold(target('b'));
    expect(flushed).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(flushed).toEqual(['a', 'b']);
    flusher.hold(target('c'));
    await new Promise((r) => setImmediate(r));
    expect(flushed).toEqual(['a', 'b', 'c']);
  });
});
