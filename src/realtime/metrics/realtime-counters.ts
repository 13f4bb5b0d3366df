/**
 * Counters of one node's WebSocket side, as plain numbers the app reads at scrape time
 * (it maps them onto prom-client). `dropped` counts connections the server closed or refused,
 * by reason: the wire error kind (e.g. `SlowConsumer`, `PongNotReceived`, `UnknownApp`), or
 * `PayloadTooLarge` when a frame exceeded the transport's hard limit.
 */
export class RealtimeCounters {
  /** Connections open now. */
  connections = 0;
  /** Connections accepted since start. */
  connectionsOpened = 0;
  messagesIn = 0;
  messagesOut = 0;
  bytesOut = 0;
  readonly dropped: Record<string, number> = {};

  drop(reason: string): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
  }

  snapshot() {
    return {
      connections: this.connections,
      connectionsOpened: this.connectionsOpened,
      messagesIn: this.messagesIn,
      messagesOut: this.messagesOut,
      bytesOut: this.bytesOut,
      dropped: { ...this.dropped },
    };
  }
}
