import { afterEach } from 'vitest';
import {
  LocalClusterState,
  LocalFanout,
  LocalRealtimeControl,
  PusherServer,
  RedisClusterState,
  RedisFanout,
  StaticAppRegistry,
} from '../../../src/realtime/index.js';
import { clusterStateContract, type ContractNode } from '../../support/realtime-cluster-state-contract.js';
import { testApp } from '../../support/realtime-apps.js';
import { deleteRedisKeys, describeOnRedis, REDIS_URL, redisTestPrefix } from '../../support/redis.js';
import { RecordingSink } from '../../support/realtime-server.js';

const app = testApp();
const apps = new StaticAppRegistry([app]);
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((f) => f()));
});

clusterStateContract('local (one node)', app, async () => {
  const sink = new RecordingSink();
  const fanout = new LocalFanout();
  const server = new PusherServer({ apps, fanout, occurrences: sink, cluster: new LocalClusterState() });
  server.start();
  const node: ContractNode = { server, sink, control: new LocalRealtimeControl(apps, fanout, server.state) };
  return { nodes: [node], close: async () => server.stop() };
});

await describeOnRedis('ClusterState over Redis', () => {
  clusterStateContract('redis (three nodes)', app, async () => {
    const prefix = redisTestPrefix();
    const nodes = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const sink = new RecordingSink();
        const fanout = new RedisFanout({ url: REDIS_URL, prefix });
        const cluster = new RedisClusterState({ url: REDIS_URL, prefix, fanout, nodeId: `n${i}` });
        await fanout.connect();
        const server = new PusherServer({ apps, fanout, occurrences: sink, cluster });
        server.start();
        await cluster.start(server.state);
        const control = cluster.control(apps, fanout);
        return { node: { server, sink, control } as ContractNode, stop: async () => (server.stop(), await cluster.stop(), await fanout.close()) };
      }),
    );
    const close = async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      await deleteRedisKeys(prefix);
    };
    cleanups.push(close);
    return { nodes: nodes.map((n) => n.node), close };
  });
});
