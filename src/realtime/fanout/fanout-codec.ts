import type { FanoutMessage } from './fanout.js';

/**
 * The binary form of a FanoutMessage on a shared medium (Redis pub/sub): a version byte, a
 * kind byte, a flags byte, then the fields as length-prefixed UTF-8 strings (uint32 BE
 * length). `data` goes through as its own bytes, so it is relayed byte-for-byte and costs
 * no JSON escaping. Decoding checks every length against the buffer and throws
 * FanoutDecodeError on anything malformed: a bad message is skipped, never trusted.
 */
export const FANOUT_CODEC_VERSION = 1;
// The cluster's Lua scripts write member_removed and complete count messages themselves
// (redis-cluster-scripts.ts): a change of layout must change them too.

const KIND = { event: 1, terminate_user: 2, member: 3, count: 4 } as const;
const FLAG = { exclude: 1, userId: 2, client: 4, removed: 8, userInfo: 16 } as const;

export class FanoutDecodeError extends Error {
  constructor(reason: string) {
    super(`Malformed fan-out message: ${reason}`);
    this.name = 'FanoutDecodeError';
  }
}

export function encodeFanoutMessage(m: FanoutMessage): Buffer {
  const parts: Buffer[] = [];
  const str = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(b.length);
    parts.push(len, b);
  };
  const u32 = (n: number) => {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(n);
    parts.push(b);
  };
  let flags = 0;
  switch (m.kind) {
    case 'event': {
      const p = m.publication;
      if (p.excludeSocketId !== undefined) flags |= FLAG.exclude;
      if (m.userId !== undefined) flags |= FLAG.userId;
      if (m.origin === 'client') flags |= FLAG.client;
      str(p.appId);
      str(p.event);
      str(p.data);
      if (p.excludeSocketId !== undefined) str(p.excludeSocketId);
      if (m.userId !== undefined) str(m.userId);
      u32(p.channels.length);
      for (const c of p.channels) str(c);
      break;
    }
    case 'terminate_user':
      str(m.appId);
      str(m.userId);
      break;
    case 'member':
      if (m.change === 'removed') flags |= FLAG.removed;
      if (m.excludeSocketId !== undefined) flags |= FLAG.exclude;
      if (m.userInfo !== undefined) flags |= FLAG.userInfo;
      str(m.appId);
      str(m.channel);
      str(m.userId);
      if (m.userInfo !== undefined) str(m.userInfo);
      if (m.excludeSocketId !== undefined) str(m.excludeSocketId);
      break;
    case 'count':
      // The count is the last 4 bytes: the cluster's COUNT script appends it to the rest.
      str(m.appId);
      str(m.channel);
      u32(m.count);
      break;
  }
  return Buffer.concat([Buffer.from([FANOUT_CODEC_VERSION, KIND[m.kind], flags]), ...parts]);
}

export function decodeFanoutMessage(buf: Buffer): FanoutMessage {
  if (buf.length < 3) throw new FanoutDecodeError('shorter than its header');
  if (buf[0] !== FANOUT_CODEC_VERSION) throw new FanoutDecodeError(`version ${buf[0]}`);
  const kind = buf[1];
  const flags = buf[2]!;
  let at = 3;
  const u32 = (): number => {
    if (at + 4 > buf.length) throw new FanoutDecodeError('truncated');
    const n = buf.readUInt32BE(at);
    at += 4;
    return n;
  };
  const str = (): string => {
    const len = u32();
    if (at + len > buf.length) throw new FanoutDecodeError('truncated string');
    const s = buf.toString('utf8', at, at + len);
    at += len;
    return s;
  };
  const has = (f: number) => (flags & f) !== 0;
  let message: FanoutMessage;
  switch (kind) {
    case KIND.event: {
      const appId = str();
      const event = str();
      const data = str();
      const excludeSocketId = has(FLAG.exclude) ? str() : undefined;
      const userId = has(FLAG.userId) ? str() : undefined;
      const n = u32();
      // Each channel costs at least its 4-byte length: a huge count cannot allocate much.
      if (n > (buf.length - at) / 4) throw new FanoutDecodeError('channel count past the end');
      const channels = Array.from({ length: n }, str);
      message = {
        kind: 'event',
        origin: has(FLAG.client) ? 'client' : 'server',
        publication: { appId, channels, event, data, ...(excludeSocketId !== undefined && { excludeSocketId }) },
        ...(userId !== undefined && { userId }),
      };
      break;
    }
    case KIND.terminate_user:
      message = { kind: 'terminate_user', appId: str(), userId: str() };
      break;
    case KIND.member: {
      const appId = str();
      const channel = str();
      const userId = str();
      const userInfo = has(FLAG.userInfo) ? str() : undefined;
      const excludeSocketId = has(FLAG.exclude) ? str() : undefined;
      message = {
        kind: 'member',
        appId,
        channel,
        change: has(FLAG.removed) ? 'removed' : 'added',
        userId,
        ...(userInfo !== undefined && { userInfo }),
        ...(excludeSocketId !== undefined && { excludeSocketId }),
      };
      break;
    }
    case KIND.count:
      message = { kind: 'count', appId: str(), channel: str(), count: u32() };
      break;
    default:
      throw new FanoutDecodeError(`kind ${kind}`);
  }
  if (at !== buf.length) throw new FanoutDecodeError('trailing bytes');
  return message;
}
