import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PipelineAdmin, PipelineObserver } from '../pipeline/index.js';
import type { RealtimeCounters, RedisClusterStats, RedisFanoutStats, WebhookSenderStats } from '../realtime/index.js';
import type { ServedRequest } from '../http/build-http.js';
import type { EventLog } from '../store/index.js';

/**
 * Prometheus metrics of one process, in a registry of its own (no global state), served
 * at GET /metrics. Lag gauges are read from the database at scrape time, so every node
 * reports the same, true figure whichever node runs the subscription.
 */
export function createMetrics(deps: {
  log: EventLog;
  admin: PipelineAdmin;
  logger: { warn(o: object, m: string): void };
  /** PostgreSQL's connection pool (absent on PGlite): clients open, idle, and callers waiting for one. */
  pool?: () => { total: number; idle: number; waiting: number };
}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'storeflow_process_' });

  const appended = new Counter({
    name: 'storeflow_events_appended_total',
    help: 'Events appended to the log, by event name',
    labelNames: ['name'],
    registers: [registry],
  });
  deps.log.onAppend = (name) => appended.inc({ name });

  const handled = new Counter({
    name: 'storeflow_events_handled_total',
    help: 'Events handled by a subscription',
    labelNames: ['subscription', 'name'],
    registers: [registry],
  });
  const failures = new Counter({
    name: 'storeflow_handler_failures_total',
    help: 'Failed handler attempts (each retry counts)',
    labelNames: ['subscription', 'name'],
    registers: [registry],
  });
  const parked = new Counter({
    name: 'storeflow_dead_letters_parked_total',
    help: 'Events parked as dead letters after their last attempt',
    labelNames: ['subscription', 'name'],
    registers: [registry],
  });
  const handlerLag = new Histogram({
    name: 'storeflow_commit_to_handler_seconds',
    help: 'Time from an event being appended to its subscription handling it',
    labelNames: ['subscription'],
    buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const leases = new Gauge({
    name: 'storeflow_subscription_lease_held',
    help: '1 when this process holds the subscription lease',
    labelNames: ['subscription'],
    registers: [registry],
  });

  const httpDuration = new Histogram({
    name: 'storeflow_http_request_duration_seconds',
    help: 'HTTP requests served, from the first byte read to the answer written, by route (its pattern) and status class',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  const pool = deps.pool;
  if (pool) {
    new Gauge({
      name: 'storeflow_db_pool_clients',
      help: 'PostgreSQL pool of this process: clients open (total), idle, and requests waiting for one (waiting)',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const p = pool();
        this.set({ state: 'total' }, p.total);
        this.set({ state: 'idle' }, p.idle);
        this.set({ state: 'waiting' }, p.waiting);
      },
    });
  }

  const lagEvents = new Gauge({ name: 'storeflow_subscription_lag_events', help: 'Events in the log after the checkpoint', labelNames: ['subscription'], registers: [registry] });
  const lagSeconds = new Gauge({ name: 'storeflow_subscription_lag_seconds', help: 'Age of the oldest event not yet handled', labelNames: ['subscription'], registers: [registry] });
  const parkedNow = new Gauge({ name: 'storeflow_dead_letters_open', help: 'Dead letters parked and not yet resolved', labelNames: ['subscription'], registers: [registry] });
  const refresh = async () => {
    try {
      for (const s of await deps.admin.status()) {
        lagEvents.set({ subscription: s.name }, s.lag_events);
        lagSeconds.set({ subscription: s.name }, s.lag_seconds);
        parkedNow.set({ subscription: s.name }, s.parked);
      }
    } catch (err) {
      deps.logger.warn({ err }, 'could not read subscription lag for metrics');
    }
  };

  const observer: PipelineObserver = {
    handled: (subscription, name, lagMs) => {
      handled.inc({ subscription, name });
      if (lagMs > 0) handlerLag.observe({ subscription }, lagMs / 1000);
    },
    failed: (subscription, name) => failures.inc({ subscription, name }),
    parked: (subscription, name) => parked.inc({ subscription, name }),
    error: () => {},
    leaseAcquired: (subscription) => leases.set({ subscription }, 1),
    leaseLost: (subscription) => leases.set({ subscription }, 0),
  };

  return {
    registry,
    observer,
    observeRealtime: (source: RealtimeSource) => observeRealtime(registry, source),
    /** `route` is the matched pattern (never the raw path, so ids cannot grow the label set). */
    requestServed(r: ServedRequest): void {
      httpDuration.observe({ method: r.method, route: r.route ?? 'unmatched', status: `${Math.floor(r.statusCode / 100)}xx` }, r.seconds);
    },
    async render(): Promise<{ contentType: string; body: string }> {
      await refresh();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

export interface RealtimeSource {
  counters: Pick<RealtimeCounters, 'snapshot'>;
  webhooks: () => WebhookSenderStats;
  /** With a Redis cluster: its connections' state and counters. */
  redis?: () => { fanout: RedisFanoutStats; cluster: RedisClusterStats };
}

/**
 * The WebSocket side's own counters (plain numbers it keeps per node), copied into
 * prom-client at scrape time. Totals are counters: per-minute figures are PromQL's
 * `rate(storeflow_realtime_messages_sent_total[1m]) * 60`, not something we compute.
 */
function observeRealtime(registry: Registry, source: RealtimeSource): void {
  const snap = () => source.counters.snapshot();
  const total = (name: string, help: string, read: (s: ReturnType<typeof snap>) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read(snap()));
      },
    });
  new Gauge({
    name: 'storeflow_realtime_connections',
    help: 'WebSocket connections open on this node',
    registers: [registry],
    collect() {
      this.set(snap().connections);
    },
  });
  total('storeflow_realtime_connections_opened_total', 'WebSocket connections accepted', (s) => s.connectionsOpened);
  total('storeflow_realtime_messages_received_total', 'WebSocket frames received from clients', (s) => s.messagesIn);
  total('storeflow_realtime_messages_sent_total', 'WebSocket frames sent to clients', (s) => s.messagesOut);
  total('storeflow_realtime_bytes_sent_total', 'Bytes of WebSocket frames sent to clients', (s) => s.bytesOut);
  new Counter({
    name: 'storeflow_realtime_connections_dropped_total',
    help: 'Connections the server closed or refused, by reason (wire error kind, e.g. SlowConsumer, PongNotReceived)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(snap().dropped)) this.inc({ reason }, n);
    },
  });
  new Counter({
    name: 'storeflow_realtime_webhooks_total',
    help: 'Pusher webhook batches, by outcome (delivered, or dropped after the last attempt)',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      const stats = source.webhooks();
      this.inc({ outcome: 'delivered' }, stats.delivered);
      this.inc({ outcome: 'dropped' }, stats.dropped);
    },
  });
  const redis = source.redis;
  if (!redis) return;
  new Gauge({
    name: 'storeflow_redis_connected',
    help: 'Whether this node is connected to Redis (1) or not (0), by connection: fanout (pub/sub) and state (cluster state)',
    labelNames: ['connection'],
    registers: [registry],
    collect() {
      const s = redis();
      this.set({ connection: 'fanout' }, s.fanout.connected ? 1 : 0);
      this.set({ connection: 'state' }, s.cluster.connected ? 1 : 0);
    },
  });
  const redisTotal = (name: string, help: string, read: (s: { fanout: RedisFanoutStats; cluster: RedisClusterStats }) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read(redis()));
      },
    });
  redisTotal('storeflow_realtime_fanout_publish_failures_total', 'Fan-out publishes that Redis refused or did not answer in time', (s) => s.fanout.publishFailures);
  redisTotal('storeflow_realtime_fanout_malformed_total', 'Fan-out messages that did not decode (skipped)', (s) => s.fanout.malformed);
  redisTotal('storeflow_realtime_cluster_failures_total', 'Cluster-state steps in Redis that failed (the node resynchronises after)', (s) => s.cluster.failures);
  redisTotal('storeflow_realtime_cluster_nodes_reaped_total', 'Dead nodes whose members and counts this node removed', (s) => s.cluster.reaped);
}
