/**
 * The WebSocket side of a Pusher protocol v7 server (generic: nothing here knows StoreFlow).
 * Typical wiring, in app/:
 *
 *   const node = new RealtimeNode({ apps, occurrences: webhookSender });
 *   node.start();
 *   node.attach(fastify.server);          // or: await node.listen(6001)
 *   // node.control is the RealtimeControl for the HTTP API and in-process publishers
 *   await node.stop();
 *
 * One node of a cluster (ADR 0008): the same, with a Redis fan-out and cluster state
 *
 *   const fanout = new RedisFanout({ url, prefix });
 *   await fanout.connect();
 *   const cluster = new RedisClusterState({ url, prefix, fanout });
 *   const node = new RealtimeNode({ apps, occurrences, fanout, cluster });
 *   await node.start();                   // registers the node, heartbeats, reaps dead ones
 */
export * from './contracts.js';
export { RealtimeNode, type RealtimeNodeOptions } from './realtime-node.js';
export { StaticAppRegistry } from './static-app-registry.js';
export { LocalRealtimeControl } from './local-realtime-control.js';
export { RealtimeCounters } from './metrics/realtime-counters.js';
export { MediumUnavailableError, type Fanout, type FanoutHandler, type FanoutMessage } from './fanout/fanout.js';
export { LocalBus, LocalFanout } from './fanout/local-fanout.js';
export { PusherServer, PROTOCOL_VERSION, type PusherServerOptions } from './protocol/pusher-server.js';
export type { Connection } from './protocol/connection.js';
export { DEFAULT_SERVER_LIMITS, type ServerLimits } from './protocol/server-limits.js';
export { SOCKET_ID } from './protocol/socket-id.js';
export * from './protocol/wire-errors.js';
export { WsTransport, type WsTransportOptions } from './transport/ws-transport.js';
export {
  channelSigningString,
  hmacHex,
  signChannel,
  signUser,
  userSigningString,
  verifyAuth,
  type AppCredentials,
} from './auth/signatures.js';
export { parseChannelName, type ChannelKind, type ChannelName } from './channels/channel-name.js';
export { PRESENCE_LIMITS } from './channels/presence-channel.js';
export { pusherHttpApi, type PusherHttpApiOptions } from './http-api/pusher-http-api.js';
export { PUSHER_HTTP_ERRORS, PusherHttpError, type PusherHttpErrorCode } from './http-api/http-api-errors.js';
export {
  privateChannelAuth,
  presenceChannelAuth,
  userAuth,
  sharedSecret,
  webhookSignature,
  signRequest,
  verifyRequest,
  stringToSign,
  bodyMd5,
} from './http-api/signature.js';
export { WebhookSender, WEBHOOK_SENDER_DEFAULTS, type WebhookSenderOptions, type WebhookSenderStats } from './webhooks/webhook-sender.js';
export type { WebhookLogger, WebhookRetryPolicy } from './webhooks/webhook-delivery.js';
export { RedisFanout, type RedisFanoutOptions, type RedisFanoutStats } from './fanout/redis-fanout.js';
export { encodeFanoutMessage, decodeFanoutMessage, FanoutDecodeError } from './fanout/fanout-codec.js';
export type { ClusterState, AppClusterState, Members, NodeView } from './cluster/cluster-state.js';
export { LocalClusterState } from './cluster/local-cluster-state.js';
export { RedisClusterState, CLUSTER_DEFAULTS, type RedisClusterStateOptions, type RedisClusterStats } from './cluster/redis-cluster-state.js';
export { createRedisConnection, connectWithin, DEFAULT_REDIS_COMMAND_TIMEOUT_MS, type RedisConnectionOptions } from './redis/redis-connection.js';
export { RedisPublisher, type RedisPublisherOptions } from './cluster/redis-publisher.js';
