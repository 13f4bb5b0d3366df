import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
    });
    this.control = new LocalRealtimeControl(this.apps, this.fanout, this.server.state);
    this.transport = new WsTransport(this.server, { ...options.transport, onError: options.transport?.onError ?? options.onError });
  }

  start(): void {
    this.server.start();
  }

  attach(httpServer: Server): void {
    this.transport.attach(httpServer);
  }

  listen(port = 0, host = '127.0.0.1'): Promise<AddressInfo> {
    return this.transport.listen(port, host);
  }

  async stop(timeoutMs = 5_000): Promise<void> {
    await this.transport.close(timeoutMs);
    this.server.stop();
    if (this.ownsFanout) await this.fanout.close();
  }
}
