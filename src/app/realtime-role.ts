import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import {
  LocalFanout,
  RealtimeNode,
  RedisClusterState,
  RedisFanout,
  StaticAppRegistry,
  WebhookSender,
  pusherHttpApi,
  type Fanout,
  type PusherApp,
  type RedisClusterStats,
  type RedisFanoutStats,
} from '../realtime/index.js';
import { errorBody } from '../http/error-handler.js';
import type { Config } from './config.js';
import { allApps, loadAppsFile } from './pusher-apps-file.js';
import type { StoreFlowPusherApp } from './storeflow-pusher-app.js';

/**
 * The `realtime` role of a process: the Pusher-protocol WebSocket server on the HTTP port
 * (`/app/{key}`), the signed Pusher HTTP API at the root (`/apps/{id}/…`, so the `pusher`
 * SDKs and Laravel's pusher broadcaster work with host and port pointed at us), `GET /up`,
 * and the webhook sender for apps that configured one. Apps: StoreFlow's own, plus any from
 * STOREFLOW_APPS_FILE.
 *
 * The fan-out is created here rather than by the node, so that stopping closes the sockets
 * first (4200: clients reconnect, elsewhere if there is an elsewhere) while the broadcaster
 * may still publish until the pipeline has stopped — into a fan-out nobody on this node
 * listens to any more, instead of one that refuses and makes the event fail.
 *
 * With REDIS_URL the node is one of a cluster: a Redis fan-out and the Redis cluster state
 * (presence, counts, cache channels, node heartbeats; see ADR 0008). Redis being down never
 * stops the node from starting or serving: publishing rejects (the broadcaster retries, the
 * event is in the log) until Redis is back, and the node rejoins by itself.
 */
export interface RealtimeRole {
  own: StoreFlowPusherApp;
  apps: readonly PusherApp[];
  node: RealtimeNode;
  webhooks: WebhookSender;
  /** Registers the Pusher HTTP API and GET /up on the StoreFlow HTTP server. */
  routes(app: FastifyInstance): Promise<void>;
  /** Starts serving WebSockets on `http`'s server. */
  start(http: FastifyInstance): void;
  /** Closes every connection with 4200 and stops accepting new ones. */
  closeSockets(): Promise<void>;
  /** After the pipeline has stopped: sends what webhooks are due, then closes the fan-out. */
  stop(): Promise<void>;
  /** With REDIS_URL: the cluster's connections, for readiness and metrics. */
  redis: RealtimeRedis | null;
}

export interface RealtimeRedis {
  /** Resolves when Redis answers PING (on the cluster state's connection). */
  ping(): Promise<unknown>;
  stats(): { fanout: RedisFanoutStats; cluster: RedisClusterStats };
}

/** Where the real-time cluster keeps its keys and pub/sub channel: the same on every node and publisher. */
export const realtimeRedisPrefix = (config: Config): string => `${config.REDIS_KEY_PREFIX}rt:`;

export async function createRealtimeRole(
  config: Config,
  deps: { own: StoreFlowPusherApp; logger: () => FastifyBaseLogger },
): Promise<RealtimeRole> {
  const { own } = deps;
  const apps = allApps(own.app, config.STOREFLOW_APPS_FILE ? await loadAppsFile(config.STOREFLOW_APPS_FILE) : []);
  const registry = new StaticAppRegistry(apps);
  const onError = (err: unknown) => deps.logger().error({ err }, 'real-time server error');
  // Wall-clock time for the protocol (signed timestamps, webhook time_ms, heartbeats), not the
  // injectable business clock: clients and SDKs sign with real time. Webhooks get 3 s to
  // drain on stop, so a whole shutdown fits main.ts's 10 s budget.
  const webhooks = new WebhookSender({ apps: registry, stopGraceMs: 3_000, logger: { warn: (o, m) => deps.logger().warn(o, m) } });
  let fanout: Fanout;
  let cluster: RedisClusterState | undefined;
  let redis: RealtimeRedis | null = null;
  if (config.REDIS_URL) {
    const prefix = realtimeRedisPrefix(config);
    const redisFanout = new RedisFanout({ url: config.REDIS_URL, prefix, name: 'storeflow', onError });
    const state = new RedisClusterState({
      url: config.REDIS_URL,
      prefix,
      fanout: redisFanout,
      name: 'storeflow',
      nodeTtlMs: config.REALTIME_NODE_TTL_MS,
      heartbeatMs: Math.max(100, Math.floor(config.REALTIME_NODE_TTL_MS / 5)),
      onError,
    });
    const connected = await Promise.all([redisFanout.connect(3_000), state.connect(3_000)]);
    if (!connected.every(Boolean)) deps.logger().warn({ redis: redact(config.REDIS_URL) }, 'Redis not reachable yet: publishing fails until it is');
    fanout = redisFanout;
    cluster = state;
    redis = { ping: () => state.ping(), stats: () => ({ fanout: redisFanout.stats(), cluster: state.stats() }) };
  } else {
    fanout = new LocalFanout(undefined, onError);
  }
  const node = new RealtimeNode({ apps: registry, occurrences: webhooks, fanout, onError, ...(cluster && { cluster }) });
  let serving = false;

  return {
    own,
    apps,
    node,
    webhooks,
    redis,
    async routes(app) {
      await app.register(pusherHttpApi, { control: node.control });
      app.get('/up', { schema: { tags: ['ops'], summary: 'The real-time server is serving (200) or not (503)' } }, async (_request, reply) =>
        serving ? { status: 'ok' } : reply.code(503).send({ status: 'unavailable', ...errorBody('REALTIME_UNAVAILABLE') }),
      );
    },
    start(http) {
      if (serving) return;
      serving = true;
      webhooks.start();
      void node.start();
      node.attach(http.server);
    },
    async closeSockets() {
      serving = false;
      await node.stop(3_000);
    },
    async stop() {
      await webhooks.stop();
      await fanout.close();
    },
  };
}

const redact = (url: string) => url.replace(/\/\/[^@/]*@/, '//…@');
