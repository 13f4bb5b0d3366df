import { createHash, randomBytes } from 'node:crypto';

/**
 * Just enough RFC 6455 for the load generator and the raw baseline server: the upgrade
 * request and its accept value, frames in both directions, and an incremental frame reader
 * that hands out (opcode, buffer, start, end) without copying the payload.
 */
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export const OP_TEXT = 0x1;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

export const acceptFor = (key: string): string => createHash('sha1').update(key + WS_GUID).digest('base64');

export function newKey(): string {
  return randomBytes(16).toString('base64');
}

/** What pusher-js 8.6 sends, minus cookies and the user agent. */
export function upgradeRequest(host: string, path: string, key: string): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`
  );
}

function header(opcode: number, length: number, masked: boolean): Buffer {
  const maskBit = masked ? 0x80 : 0;
  if (length < 126) return Buffer.from([0x80 | opcode, maskBit | length]);
  if (length < 65_536) {
    const h = Buffer.alloc(4);
    h[0] = 0x80 | opcode;
    h[1] = maskBit | 126;
    h.writeUInt16BE(length, 2);
    return h;
  }
  const h = Buffer.alloc(10);
  h[0] = 0x80 | opcode;
  h[1] = maskBit | 127;
  h.writeBigUInt64BE(BigInt(length), 2);
  return h;
}

/** A client frame: clients must mask (RFC 6455 §5.3). */
export function maskedFrame(opcode: number, payload: Buffer | string): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const mask = randomBytes(4);
  const out = Buffer.concat([header(opcode, data.length, true), mask, data]);
  const start = out.length - data.length;
  for (let i = 0; i < data.length; i++) out[start + i] = (out[start + i] as number) ^ (mask[i & 3] as number);
  return out;
}

/** A server frame (unmasked), built once and written to many sockets. */
export function serverFrame(opcode: number, payload: Buffer | string): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([header(opcode, data.length, false), data]);
}

export type FrameHandler = (opcode: number, buf: Buffer, start: number, end: number) => void;

/**
 * Splits a byte stream into frames. Masked payloads are unmasked in place; a partial frame
 * is kept (copied once) until the rest arrives. Fragmented messages are not needed here:
 * neither `ws` nor the baselines fragment.
 */
export class FrameReader {
  private rest: Buffer | null = null;

  constructor(private readonly onFrame: FrameHandler) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.rest) {
      buf = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    let at = 0;
    const n = buf.length;
    while (n - at >= 2) {
      const b1 = buf[at + 1] as number;
      let length = b1 & 0x7f;
      let pos = at + 2;
      if (length === 126) {
        if (n - pos < 2) break;
        length = buf.readUInt16BE(pos);
        pos += 2;
      } else if (length === 127) {
        if (n - pos < 8) break;
        length = Number(buf.readBigUInt64BE(pos));
        pos += 8;
      }
      const masked = (b1 & 0x80) !== 0;
      const maskAt = pos;
      if (masked) pos += 4;
      if (n - pos < length) break;
      if (masked) for (let i = 0; i < length; i++) buf[pos + i] = (buf[pos + i] as number) ^ (buf[maskAt + (i & 3)] as number);
      this.onFrame((buf[at] as number) & 0x0f, buf, pos, pos + length);
      at = pos + length;
    }
    if (at < n) this.rest = Buffer.from(buf.subarray(at));
  }
}
