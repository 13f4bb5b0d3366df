/**
 * One node of a test cluster as a process of its own, for SIGKILL: a RealtimeNode on the
 * Redis fan-out and cluster state, listening on 127.0.0.1 (port 0). Env: REDIS_URL, PREFIX,
 * NODE_ID, HEARTBEAT_MS, NODE_TTL_MS, APP (JSON PusherApp). Prints `ready <port>`.
 */
import { RealtimeNode, RedisClusterState, RedisFanout, type PusherApp } from '../../../src/realtime/index.js';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const url = env('REDIS_URL');
const prefix = env('PREFIX');
const onError = (e: unknown) => process.stderr.write(`error ${String(e)}\n`);
const fanout = new RedisFanout({ url, prefix, onError });
const cluster = new RedisClusterState({
  url,
  prefix,
  fanout,
  nodeId: env('NODE_ID'),
  heartbeatMs: Number(env('HEARTBEAT_MS')),
  nodeTtlMs: Number(env('NODE_TTL_MS')),
  onError,
});
await fanout.connect();
const node = new RealtimeNode({ apps: [JSON.parse(env('APP')) as PusherApp], fanout, cluster, onError });
await node.start();
const { port } = await node.listen(0, '127.0.0.1');
process.stdout.write(`ready ${port}\n`);
