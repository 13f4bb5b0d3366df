import { describe, expect, it } from 'vitest';
import type { PusherApp, PusherServer, RealtimeControl } from '../../src/realtime/index.js';
import { testSign } from './realtime-apps.js';
import { MemoryConnection } from './realtime-memory-connection.js';
import { RecordingSink } from './realtime-server.js';
import { waitFor } from './waiting.js';

/** One node of the cluster under test: the protocol on memory connections, its control and webhook sink. */
export interface ContractNode {
  server: PusherServer;
  control: RealtimeControl;
  sink: RecordingSink;
}

/**
 * The ClusterState port's contract (src/realtime/cluster/cluster-state.ts), one suite for
 * every adapter, seen from the protocol: `nodes()` gives the nodes of one fresh cluster
 * (one node for the local adapter, several for a shared medium) whose app is `app`.
 * Connections are spread over the nodes, so with several nodes every check is cross-node.
 * Everything is awaited with waitFor: a clustered adapter answers asynchronously.
 */
export function clusterStateContract(adapter: string, app: PusherApp, nodes: () => Promise<{ nodes: ContractNode[]; close(): Promise<void> }>): void {
  const cluster = async () => {
    const c = await nodes();
    let next = 1;
    const connect = (i: number) => {
      const node = c.nodes[i % c.nodes.length]!;
      const conn = new MemoryConnection(`${next}.${next++}`, app);
      node.server.open(conn);
      return { conn, node };
    };
    const send = (x: { conn: MemoryConnection; node: ContractNode }, message: unknown) =>
      x.node.server.message(x.conn, Buffer.from(JSON.stringify(message)), false);
    const subscribe = (x: { conn: MemoryConnection; node: ContractNode }, channel: string, channelData?: string) =>
      send(x, {
        event: 'pusher:subscribe',
        data: {
          channel,
          ...(!channel.startsWith('private-') && !channel.startsWith('presence-')
            ? {}
            : { auth: testSign.channel(app, x.conn.socketId, channel, channelData), channel_data: channelData }),
        },
      });
    const disconnect = (x: { conn: MemoryConnection; node: ContractNode }) => x.node.server.close(x.conn);
    const seen = <N extends 'channel_occupied' | 'channel_vacated' | 'member_added' | 'member_removed' | 'subscription_count'>(name: N) =>
      c.nodes.flatMap((n) => n.sink.named(name));
    return { ...c, connect, send, subscribe, disconnect, seen };
  };
  const succeeded = (x: { conn: MemoryConnection }, channel: string) =>
    waitFor(`subscription_succeeded on ${channel}`, () => x.conn.frames('pusher_internal:subscription_succeeded').find((f) => f.channel === channel), 5_000);

  describe(`ClusterState contract: ${adapter}`, () => {
    it('reports occupied once, the subscription count, and vacated once, for the whole cluster', async () => {
      const c = await cluster();
      try {
        const conns = [c.connect(0), c.connect(1), c.connect(2)];
        for (const x of conns) c.subscribe(x, 'busy');
        await Promise.all(conns.map((x) => succeeded(x, 'busy')));
        await waitFor('count 3', () => c.seen('subscription_count').some((o) => o.subscription_count === 3), 5_000);
        expect(c.seen('channel_occupied')).toEqual([{ appId: app.id, name: 'channel_occupied', channel: 'busy' }]);
        for (const x of conns) c.disconnect(x);
        await waitFor('vacated', () => c.seen('channel_vacated').length === 1, 5_000);
        await new Promise((r) => setTimeout(r, 50));
        expect(c.seen('channel_vacated')).toHaveLength(1);
        expect(c.seen('channel_occupied')).toHaveLength(1);
      } finally {
        await c.close();
      }
    });

    it('counts presence members as distinct users anywhere: added on the first connection, removed with the last', async () => {
      const c = await cluster();
      try {
        const [tab1, other, tab2] = [c.connect(0), c.connect(1), c.connect(2)];
        c.subscribe(tab1, 'presence-room', '{"user_id":7,"user_info":{"name":"Ann"}}');
        await succeeded(tab1, 'presence-room');
        c.subscribe(other, 'presence-room', '{"user_id":"8"}');
        await succeeded(other, 'presence-room');
        c.subscribe(tab2, 'presence-room', '{"user_id":7,"user_info":{"name":"Ann"}}');
        const frame = await succeeded(tab2, 'presence-room');
        expect(frame.data.presence.count).toBe(2);
        expect(frame.data.presence.hash).toEqual({ '7': { name: 'Ann' }, '8': {} });
        await waitFor('ann told of 8', () => tab1.conn.frames('pusher_internal:member_added').length === 1, 5_000);
        expect(tab1.conn.frames('pusher_internal:member_added').map((f) => f.data)).toEqual([{ user_id: '8', user_info: {} }]);
        await waitFor('users from the control', async () => (await other.node.control.users(app.id, 'presence-room')).length === 2, 5_000);
        expect((await tab1.node.control.channel(app.id, 'presence-room')).userCount).toBe(2);

        // Ann's first tab leaving says nothing: the final list below has one removal only.
        c.disconnect(tab1);
        c.disconnect(tab2);
        await waitFor('7 removed', () => other.conn.frames('pusher_internal:member_removed').length === 1, 5_000);
        expect(other.conn.frames('pusher_internal:member_removed').map((f) => f.data)).toEqual([{ user_id: '7' }]);
        expect(other.conn.frames('pusher_internal:member_added')).toEqual([]);
        expect(c.seen('member_added').map((o) => o.user_id).sort()).toEqual(['7', '8']);
        expect(c.seen('member_removed').map((o) => o.user_id)).toEqual(['7']);
      } finally {
        await c.close();
      }
    });

    it('refuses the 101st distinct user of a presence channel, changing nothing, but not another tab of a member', async () => {
      const c = await cluster();
      try {
        const members = Array.from({ length: 100 }, (_, i) => c.connect(i));
        members.forEach((x, i) => c.subscribe(x, 'presence-full', `{"user_id":${i}}`));
        await Promise.all(members.map((x) => succeeded(x, 'presence-full')));
        const late = c.connect(1);
        c.subscribe(late, 'presence-full', '{"user_id":100}');
        const refused = await waitFor('refusal', () => late.conn.frames('pusher:subscription_error')[0], 5_000);
        expect(refused.data).toMatchObject({ type: 'LimitReached' });
        const secondTab = c.connect(2);
        c.subscribe(secondTab, 'presence-full', '{"user_id":0}');
        expect((await succeeded(secondTab, 'presence-full')).data.presence.count).toBe(100);
        expect(await late.node.control.users(app.id, 'presence-full')).not.toContain('100');
      } finally {
        await c.close();
      }
    });

    it('replays the last server event of a cache channel on any node, never a client event', async () => {
      const c = await cluster();
      try {
        await c.nodes[0]!.control.publish({ appId: app.id, channels: ['private-cache-prices'], event: 'Price', data: '1' });
        const a = c.connect(1);
        c.subscribe(a, 'private-cache-prices');
        // A subscribe that crosses the publish on a shared medium may see it twice (replay, then live).
        await waitFor('replayed', () => a.conn.frames('Price').length >= 1, 5_000);
        expect(new Set(a.conn.frames('Price').map((f) => f.data))).toEqual(new Set([1]));
        c.send(a, { event: 'client-price', channel: 'private-cache-prices', data: '2' });
        const b = c.connect(2);
        c.subscribe(b, 'private-cache-prices');
        await waitFor('replayed to b', () => b.conn.frames('Price').length >= 1, 5_000);
        expect(new Set(b.conn.frames('Price').map((f) => f.data))).toEqual(new Set([1]));
        expect(b.conn.frames('client-price')).toEqual([]);
        const missing = c.connect(0);
        c.subscribe(missing, 'cache-nothing');
        await waitFor('cache miss', () => missing.conn.frames('pusher:cache_miss').length === 1, 5_000);
      } finally {
        await c.close();
      }
    });

    it('answers channels, channel info and users with the totals of the cluster on every node', async () => {
      const c = await cluster();
      try {
        const conns = [c.connect(0), c.connect(1), c.connect(2), c.connect(3)];
        for (const x of conns) c.subscribe(x, 'stats-a');
        c.subscribe(conns[0]!, 'other');
        await Promise.all(conns.map((x) => succeeded(x, 'stats-a')));
        for (const node of c.nodes) {
          await waitFor(
            'totals',
            async () => {
              const all = await node.control.channels(app.id, 'stats-');
              const info = await node.control.channel(app.id, 'stats-a');
              return [...all.keys()].join() === 'stats-a' && info.occupied && info.subscriptionCount === 4;
            },
            5_000,
          );
          expect((await node.control.channel(app.id, 'nobody-here')).occupied).toBe(false);
        }
      } finally {
        await c.close();
      }
    });
  });
}
