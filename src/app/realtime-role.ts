import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import {
  LocalFanout,
  RealtimeNode,
  StaticAppRegistry,
  WebhookSender,
  pusherHttpApi,
  type Fanout,
  type PusherApp,
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
}

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
  const fanout: Fanout = new LocalFanout(undefined, onError);
  const node = new RealtimeNode({ apps: registry, occurrences: webhooks, fanout, onError });
  let serving = false;

  return {
    own,
    apps,
    node,
    webhooks,
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
      node.start();
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
