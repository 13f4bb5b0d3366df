import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClusterState } from './cluster/cluster-state.js';
import type { AppRegistry, OccurrenceSink, PusherApp, RealtimeControl } from './contracts.js';
import type { Fanout } from './fanout/fanout.js';
import { LocalFanout } from './fanout/local-fanout.js';
import { LocalRealtimeControl } from './local-realtime-control.js';
import { RealtimeCounters } from './metrics/realtime-counters.js';
import { PusherServer } from './protocol/pusher-server.js';
import type { ServerLimits } from './protocol/server-limits.js';
import { StaticAppRegistry } from './static-app-registry.js';
import { WsTransport, type WsTransportOptions } from './transport/ws-transport.js';

export interface RealtimeNodeOptions {
  apps: readonly PusherApp[] | AppRegistry;
  /** Where webhook-worthy occurrences go (the webhook sender); dropped if absent. */
  occurrences?: OccurrenceSink;
  /** Defaults to an in-process LocalFanout (one node). */
  fanout?: Fanout;
  /**
   * What channels share with the other nodes (presence members, counts, cache) and the
   * RealtimeControl that answers cluster-wide. Defaults to this node alone. Pass the same
   * medium's fan-out with it (RedisClusterState with RedisFanout).
   */
  cluster?: ClusterState;
  limits?: Partial<ServerLimits>;
  transport?: WsTransportOptions;
  now?: () => number;
  onError?: (error: unknown) => void;
}

/**
 * One node of the WebSocket side, wired: protocol server, fan-out, RealtimeControl,
 * counters and the `ws` transport. `start()`, then `attach(httpServer)` and/or `listen()`;
 * `stop()` closes every connection with 4200 and releases what the node created.
 */
export class RealtimeNode {
  readonly apps: AppRegistry;
  readonly counters = new RealtimeCounters();
  readonly fanout: Fanout;
  readonly server: PusherServer;
  readonly control: RealtimeControl;
  readonly transport: WsTransport;
  private readonly ownsFanout: boolean;
  private readonly onError: (error: unknown) => void;

  constructor(options: RealtimeNodeOptions) {
    this.apps = Array.isArray(options.apps) ? new StaticAppRegistry(options.apps) : (options.apps as AppRegistry);
    this.ownsFanout = options.fanout === undefined;
    this.fanout = options.fanout ?? new LocalFanout(undefined, options.onError);
    this.server = new PusherServer({
      apps: this.apps,
      fanout: this.fanout,
      counters: this.counters,
      ...(options.occurrences && { occurrences: options.occurrences }),
      ...(options.limits && { limits: options.limits }),
      ...(options.now && { now: options.now }),
      ...(options.onError && { onError: options.onError }),
      ...(options.cluster && { cluster: options.cluster }),
    });
    this.onError = options.onError ?? (() => {});
    this.control = this.server.cluster.control?.(this.apps, this.fanout) ?? new LocalRealtimeControl(this.apps, this.fanout, this.server.state);
    this.transport = new WsTransport(this.server, { ...options.transport, onError: options.transport?.onError ?? options.onError });
  }

  /**
   * Starts the protocol server and joins the cluster; resolves once joined. Never rejects:
   * a cluster that cannot be reached now is reported to onError and joined when it answers.
   */
  async start(): Promise<void> {
    this.server.start();
    try {
      await this.server.cluster.start(this.server.state);
    } catch (error) {
      this.onError(error);
    }
  }

  attach(httpServer: Server): void {
    this.transport.attach(httpServer);
  }

  listen(port = 0, host = '127.0.0.1'): Promise<AddressInfo> {
    return this.transport.listen(port, host);
  }

  /** Closes every connection (4200), then leaves the cluster: what this node held is released at once. */
  async stop(timeoutMs = 5_000): Promise<void> {
    await this.transport.close(timeoutMs);
    this.server.stop();
    await this.server.cluster.stop().catch((error: unknown) => this.onError(error));
    if (this.ownsFanout) await this.fanout.close();
  }
}
