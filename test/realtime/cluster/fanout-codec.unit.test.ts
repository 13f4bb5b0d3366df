import { describe, expect, it } from 'vitest';
import { decodeFanoutMessage, encodeFanoutMessage, FanoutDecodeError, type FanoutMessage } from '../../../src/realtime/index.js';

describe('fan-out codec', () => {
  const messages: FanoutMessage[] = [
    { kind: 'event', origin: 'server', publication: { appId: '1', channels: ['a', 'private-b'], event: 'E', data: '{"x":"ü\\u0000"}' } },
    {
      kind: 'event',
      origin: 'client',
      userId: '7',
      publication: { appId: 'app', channels: ['presence-x'], event: 'client-typing', data: '', excludeSocketId: '12.34' },
    },
    { kind: 'terminate_user', appId: '1', userId: 'user 🙂' },
    { kind: 'member', appId: '1', channel: 'presence-p', change: 'added', userId: '1', userInfo: '{}', excludeSocketId: '1.1' },
    { kind: 'member', appId: '1', channel: 'presence-p', change: 'removed', userId: '1' },
    { kind: 'count', appId: '1', channel: 'c', count: 4_000_000_000 },
  ];

  it('round-trips every kind of message intact', () => {
    for (const m of messages) expect(decodeFanoutMessage(encodeFanoutMessage(m))).toEqual(m);
  });

  it('relays data as its own bytes: no JSON escaping, a few bytes of overhead', () => {
    const data = JSON.stringify({ text: '"quoted" \\ and ü'.repeat(20) });
    const bytes = encodeFanoutMessage({ kind: 'event', origin: 'server', publication: { appId: '1', channels: ['c'], event: 'E', data } });
    expect(bytes.includes(Buffer.from(data, 'utf8'))).toBe(true);
    expect(bytes.length).toBeLessThan(Buffer.byteLength(data) + 40);
  });

  it('refuses malformed input with FanoutDecodeError instead of trusting it', () => {
    const good = encodeFanoutMessage(messages[0]!);
    const bad = [
      Buffer.alloc(0),
      Buffer.from([9, 1, 0]),
      Buffer.from([1, 42, 0]),
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.from([0])]),
      Buffer.from('{"kind":"event"}'),
    ];
    const huge = Buffer.from(good);
    huge.writeUInt32BE(0xffffffff, 3);
    bad.push(huge);
    for (const b of bad) expect(() => decodeFanoutMessage(b)).toThrow(FanoutDecodeError);
  });
});
