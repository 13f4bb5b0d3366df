/** Node-wide limits and timings of the WebSocket side (per-app limits live on PusherApp). */
export interface ServerLimits {
  /** Connections this node accepts over all apps before refusing with 4100; 0 = unlimited. */
  maxConnections: number;
  /** A connection pinged for being idle past its activity timeout must answer within this. */
  pongTimeoutMs: number;
  /** A connection that neither subscribes nor signs in within this is closed with 4202. */
  subscribeWithinMs: number;
  /** A connection with more unsent bytes than this is a slow consumer and closed with 4100. */
  maxBufferedBytes: number;
  /** Client events one connection may send per second before 4301. */
  clientEventsPerSecond: number;
  /** How often each connection is looked at for being idle, unresponsive or never subscribing (in SWEEP_SLICES ticks). */
  sweepIntervalMs: number;
  /** How long a cache channel remembers its last event. */
  cacheTtlMs: number;
  /** Used when an app has no (or a non-positive) activity timeout: it must not be zero. */
  defaultActivityTimeoutSeconds: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  maxConnections: 0,
  pongTimeoutMs: 30_000,
  subscribeWithinMs: 120_000,
  maxBufferedBytes: 4 * 1024 * 1024,
  clientEventsPerSecond: 10,
  sweepIntervalMs: 1_000,
  cacheTtlMs: 30 * 60_000,
  defaultActivityTimeoutSeconds: 30,
};

export const activityTimeoutSeconds = (configured: number, limits: ServerLimits): number =>
  Number.isFinite(configured) && configured > 0 ? Math.ceil(configured) : limits.defaultActivityTimeoutSeconds;
