import { describe, expect, it } from 'vitest';
import type { Fanout, FanoutMessage } from '../../src/realtime/index.js';
import { waitFor } from './waiting.js';

/**
 * The Fanout port's contract (src/realtime/fanout/fanout.ts), one suite for every adapter.
 * `nodes(n)` gives n fan-outs that share one medium (n separate nodes of a cluster).
 */
export function fanoutContract(adapter: string, nodes: (n: number) => Promise<Fanout[]>): void {
  const event = (i: number, extra: Partial<Extract<FanoutMessage, { kind: 'event' }>> = {}): FanoutMessage => ({
    kind: 'event',
    origin: 'server',
    publication: { appId: '1', channels: ['c'], event: 'E', data: `{"i":${i},"s":"ü \\" \\u0000"}` },
    ...extra,
  });
  const received = (f: Fanout) => {
    const got: FanoutMessage[] = [];
    f.onMessage((m) => got.push(m));
    return got;
  };

  describe(`Fanout contract: ${adapter}`, () => {
    it('delivers a message published on any node to every node exactly once, itself included', async () => {
      const [a, b] = await nodes(2);
      const [gotA, gotB] = [received(a!), received(b!)];
      await a!.publish(event(1));
      await b!.publish(event(2));
      await waitFor('both delivered everywhere', () => gotA.length >= 2 && gotB.length >= 2, 5_000);
      await a!.publish(event(3));
      await waitFor('third', () => gotA.length >= 3 && gotB.length >= 3, 5_000);
      for (const got of [gotA, gotB]) {
        expect(got.map((m) => (m.kind === 'event' ? m.publication.data : ''))).toHaveLength(3);
        expect(new Set(got.map((m) => (m.kind === 'event' ? m.publication.data : ''))).size).toBe(3);
      }
      await Promise.all([a!.close(), b!.close()]);
    });

    it('keeps the order of one publisher and the message intact', async () => {
      const [a, b] = await nodes(2);
      const gotB = received(b!);
      const sent = Array.from({ length: 50 }, (_, i) =>
        event(i, { origin: i % 2 ? 'client' : 'server', userId: i % 2 ? `u${i}` : undefined }),
      );
      for (const m of sent) await a!.publish(m);
      const terminate: FanoutMessage = { kind: 'terminate_user', appId: '1', userId: 'u' };
      await a!.publish(terminate);
      const excluded = event(99);
      if (excluded.kind === 'event') excluded.publication = { ...excluded.publication, excludeSocketId: '1.2', channels: ['a', 'b'] };
      await a!.publish(excluded);
      const others: FanoutMessage[] = [
        { kind: 'member', appId: '1', channel: 'presence-p', change: 'added', userId: 'ü 1', userInfo: '{"name":"Ann"}', excludeSocketId: '3.4' },
        { kind: 'member', appId: '1', channel: 'presence-p', change: 'removed', userId: 'ü 1' },
        { kind: 'count', appId: '1', channel: 'c', count: 70_000 },
      ];
      for (const m of others) await a!.publish(m);
      await waitFor('all 55', () => gotB.length === 55, 5_000);
      expect(gotB).toEqual([...sent, terminate, excluded, ...others]);
      await Promise.all([a!.close(), b!.close()]);
    });

    it('keeps delivering to the other handlers when one throws, and stops after removal', async () => {
      const [a] = await nodes(1);
      a!.onMessage(() => {
        throw new Error('handler bug');
      });
      const got: FanoutMessage[] = [];
      const remove = a!.onMessage((m) => got.push(m));
      await a!.publish(event(1));
      await waitFor('delivered despite the throwing handler', () => got.length === 1, 5_000);
      remove();
      await a!.publish(event(2));
      const marker: FanoutMessage[] = [];
      a!.onMessage((m) => marker.push(m));
      await a!.publish(event(3));
      await waitFor('marker', () => marker.length >= 1, 5_000);
      expect(got).toHaveLength(1);
      await a!.close();
    });

    it('rejects publish after close', async () => {
      const [a] = await nodes(1);
      await a!.close();
      await expect(a!.publish(event(1))).rejects.toThrow();
    });
  });
}
