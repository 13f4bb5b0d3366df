import type { ClusterState } from '../cluster/cluster-state.js';
import { LocalClusterState } from '../cluster/local-cluster-state.js';
import type { AppRegistry, OccurrenceSink, PusherApp } from '../contracts.js';
import type { Fanout } from '../fanout/fanout.js';
import { RealtimeCounters } from '../metrics/realtime-counters.js';
import { parseClientMessage } from './client-message.js';
import type { Connection } from './connection.js';
import { handlerFor } from './event-handlers.js';
import { HeartbeatSweep, SWEEP_SLICES } from './heartbeats.js';
import { frames } from './frames.js';
import type { HandlerContext } from './handler-context.js';
import { originAllowed, parseConnectUrl } from './handshake.js';
import { deliverLocally } from './local-delivery.js';
import { NodeState } from './node-state.js';
import { activityTimeoutSeconds, DEFAULT_SERVER_LIMITS, type ServerLimits } from './server-limits.js';
import { Session } from './session.js';
import { newSocketId } from './socket-id.js';
import {
  AppDisabledError,
  BinaryMessageError,
  InternalError,
  MessageTooLargeError,
  MissingProtocolError,
  OriginNotAllowedError,
  OverCapacityError,
  OverQuotaError,
  ReconnectRequestedError,
  SubscriptionError,
  UnknownAppError,
  UnknownEventError,
  UnsupportedProtocolError,
  WireError,
} from './wire-errors.js';

export interface PusherServerOptions {
  apps: AppRegistry;
  fanout: Fanout;
  occurrences?: OccurrenceSink;
  counters?: RealtimeCounters;
  limits?: Partial<ServerLimits>;
  /** Milliseconds; defaults to Date.now. */
  now?: () => number;
  /** Told about server bugs met while handling a message or a fan-out delivery. */
  onError?: (error: unknown) => void;
  /** New socket ids (`^\d+\.\d+$`, unique); random by default. */
  socketIds?: () => string;
  /** What channels share with other nodes; by default this node is the whole cluster. */
  cluster?: ClusterState;
}

export const PROTOCOL_VERSION = '7';

/**
 * The Pusher protocol v7 over abstract connections: the transport reports open, message,
 * pong (RFC 6455 ping/pong frames) and close; the server answers through Connection.send
 * and Connection.close and never touches a socket. Nothing a client sends can throw out of
 * these methods: refusals go back as pusher:error / pusher:subscription_error.
 */
export class PusherServer {
  readonly apps: AppRegistry;
  readonly counters: RealtimeCounters;
  readonly limits: ServerLimits;
  readonly state: NodeState;
  readonly cluster: ClusterState;
  private readonly fanout: Fanout;
  private readonly now: () => number;
  private readonly onError: (error: unknown) => void;
  private readonly socketIds: () => string;
  private readonly ctx: HandlerContext;
  private sweepTimer: NodeJS.Timeout | undefined;
  private stopListening: (() => void) | undefined;

  constructor(options: PusherServerOptions) {
    this.apps = options.apps;
    this.fanout = options.fanout;
    this.counters = options.counters ?? new RealtimeCounters();
    this.limits = { ...DEFAULT_SERVER_LIMITS, ...options.limits };
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? (() => {});
    this.socketIds = options.socketIds ?? newSocketId;
    const occurrences = options.occurrences ?? { occurred: () => {} };
    this.cluster = options.cluster ?? new LocalClusterState();
    this.state = new NodeState(this.apps, occurrences, this.limits.cacheTtlMs, this.now, this.cluster);
    this.ctx = {
      fanout: this.fanout,
      limits: this.limits,
      counters: this.counters,
      now: this.now,
      reportError: this.onError,
      refuse: (session, error) => this.refuse(session, error),
    };
  }

  /** Listens to the fan-out and starts the heartbeat sweep (see heartbeats.ts). */
  start(): void {
    if (this.sweepTimer) return;
    this.stopListening = this.fanout.onMessage((message) => {
      try {
        deliverLocally(this.state, message, this.kick);
      } catch (error) {
        this.onError(error);
      }
    });
    const sweep = new HeartbeatSweep(this.state, this.limits, this.kick);
    this.sweepTimer = setInterval(() => {
      try {
        sweep.tick(this.now());
      } catch (error) {
        this.onError(error);
      }
    }, this.limits.sweepIntervalMs / SWEEP_SLICES);
    this.sweepTimer.unref();
  }

  stop(): void {
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.stopListening?.();
    this.stopListening = undefined;
  }

  /**
   * Whether a connection to `url` (path and query, relative to the transport's mount) may
   * open; throws the WireError to send before closing: 4005 path, 4001 unknown key, 4003
   * disabled, 4008/4007 protocol, 4009 origin, 4004 app quota, 4100 node capacity.
   */
  admit(request: { url: string; origin?: string | undefined }): PusherApp {
    const { key, protocol } = parseConnectUrl(request.url);
    const app = this.apps.byKey(key);
    if (!app) throw new UnknownAppError();
    if (!app.enabled) throw new AppDisabledError();
    if (protocol === null || protocol === '') throw new MissingProtocolError();
    if (protocol !== PROTOCOL_VERSION) throw new UnsupportedProtocolError(`Got ${JSON.stringify(protocol.slice(0, 16))}.`);
    if (!originAllowed(app, request.origin)) throw new OriginNotAllowedError();
    if (app.maxConnections > 0 && (this.state.byId(app.id)?.sessions.size ?? 0) >= app.maxConnections) {
      throw new OverQuotaError();
    }
    if (this.limits.maxConnections > 0 && this.state.connectionCount >= this.limits.maxConnections) {
      throw new OverCapacityError();
    }
    return app;
  }

  newSocketId(): string {
    return this.socketIds();
  }

  open(conn: Connection): void {
    const now = this.now();
    conn.lastActivity = now;
    const session = new Session(conn, now, this.limits.maxBufferedBytes, this.counters, this.kick);
    this.state.add(session);
    this.counters.connections += 1;
    this.counters.connectionsOpened += 1;
    const timeout = activityTimeoutSeconds(conn.app.activityTimeoutSeconds, this.limits);
    session.send(frames.connectionEstablished(conn.socketId, timeout));
  }

  message(conn: Connection, bytes: Buffer, binary: boolean): void {
    const session = this.state.find(conn.app.id, conn.socketId);
    if (!session || session.closed) return;
    this.touch(session);
    this.counters.messagesIn += 1;
    try {
      if (binary) throw new BinaryMessageError();
      const max = conn.app.maxMessageBytes;
      if (bytes.length > max) throw new MessageTooLargeError(`The limit is ${max} bytes; this frame had ${bytes.length}.`);
      const message = parseClientMessage(bytes.toString('utf8'));
      const handler = handlerFor(message.event);
      if (!handler) throw new UnknownEventError(`Got ${JSON.stringify(message.event)}.`);
      handler(message, session, this.state.of(conn.app), this.ctx);
    } catch (error) {
      this.refuse(session, error);
    }
  }

  /** An RFC 6455 ping or pong frame arrived: it counts as activity. */
  pong(conn: Connection): void {
    const session = this.state.find(conn.app.id, conn.socketId);
    if (session) this.touch(session);
  }

  /** The connection is gone (whoever closed it). */
  close(conn: Connection): void {
    const session = this.state.find(conn.app.id, conn.socketId);
    if (!session) return;
    session.closed = true;
    this.cleanup(session);
  }

  /** Closes one connection with `error` (default 4200: the client reconnects at once). */
  disconnect(appId: string, socketId: string, error: WireError = new ReconnectRequestedError()): boolean {
    const session = this.state.find(appId, socketId);
    if (!session) return false;
    this.kick(session, error);
    return true;
  }

  /** Closes every connection, e.g. with 4200 on shutdown so clients move to another node. */
  disconnectAll(error: WireError = new ReconnectRequestedError()): void {
    for (const session of this.state.sessions()) this.kick(session, error);
  }

  private readonly kick = (session: Session, error: WireError): void => {
    if (session.closed) return;
    session.conn.send(frames.error(error));
    this.counters.messagesOut += 1;
    session.closed = true;
    this.cleanup(session);
    this.counters.drop(error.kind);
    session.conn.close(error.code, error.message);
  };

  private cleanup(session: Session): void {
    const app = this.state.of(session.conn.app);
    for (const name of session.channels) app.channels.unsubscribe(session, name);
    session.channels.clear();
    app.users.signOut(session);
    if (this.state.remove(session)) this.counters.connections -= 1;
  }

  private refuse(session: Session, error: unknown): void {
    if (error instanceof SubscriptionError) {
      session.send(frames.subscriptionError(error));
    } else if (error instanceof WireError) {
      session.fail(error);
    } else {
      this.onError(error);
      session.fail(new InternalError());
    }
  }

  private touch(session: Session): void {
    session.conn.lastActivity = this.now();
    session.pingSentAt = undefined;
  }
}
