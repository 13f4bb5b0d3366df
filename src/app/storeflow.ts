import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildHttp } from '../http/build-http.js';
import { broadcastingRoutes } from '../http/routes/broadcasting-routes.js';
import { clientRoutes } from '../http/routes/client-routes.js';
import { webRoutes } from '../http/routes/web-routes.js';
import { databaseCheck, readinessRoutes, type DependencyCheck } from '../http/routes/health-routes.js';
import { notificationRoutes } from '../http/routes/notification-routes.js';
import { webhookEndpointRoutes } from '../http/routes/webhook-endpoint-routes.js';
import { Pipeline, PipelineAdmin, type PipelineObserver, type Subscriber } from '../pipeline/index.js';
import {
  Broadcaster,
  DeliveryWorker,
  LoggingTransport,
  MerchantWebhooks,
  Notifier,
  SmtpEmailTransport,
  WebhookTransport,
  storeCountersProjection,
  type DeliveryLogger,
} from '../reactions/index.js';
import { systemClock, type Clock } from '../shared/index.js';
import {
  CatalogStore,
  EventLog,
  OrderStore,
  PgDatabase,
  PgliteDatabase,
  TenancyStore,
  migrate,
  type Database,
} from '../store/index.js';
import type { Config } from './config.js';
import { seedDemoIfEmpty, type DemoSeed } from './demo-seed.js';
import { createMetrics } from './metrics.js';
import { createRealtimeRole, realtimeRedisPrefix, type RealtimeRole } from './realtime-role.js';
import { createRedisConnection, RedisPublisher, StaticAppRegistry } from '../realtime/index.js';
import { storeflowPusherApp, type StoreFlowPusherApp } from './storeflow-pusher-app.js';

/**
 * The one place that picks adapters and wires the parts: PGlite when no DATABASE_URL is
 * set, PostgreSQL otherwise. Long-running parts are started and stopped from here.
 */
export async function openDatabase(config: Config): Promise<Database> {
  if (config.DATABASE_URL) {
    return new PgDatabase({
      connectionString: config.DATABASE_URL,
      max: config.DATABASE_POOL_MAX,
      connectionTimeoutMillis: config.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMillis: config.DATABASE_STATEMENT_TIMEOUT_MS,
    });
  }
  await mkdir(config.dataDir, { recursive: true });
  return PgliteDatabase.open(config.dataDir);
}

/** Where `npm run build:web` puts the screens (scripts/build-web.ts). */
export const WEB_DIST_DIR = fileURLToPath(new URL('../../dist/web', import.meta.url));

export interface StoreFlow {
  db: Database;
  http: FastifyInstance;
  log: EventLog;
  pipeline: Pipeline;
  pipelineAdmin: PipelineAdmin;
  deliveries: DeliveryWorker;
  seeded: DemoSeed | null;
  /** StoreFlow's own Pusher app (credentials from the environment or the data folder). */
  pusher: StoreFlowPusherApp;
  /** The WebSocket server and Pusher HTTP API, if this process has the realtime role. */
  realtime: RealtimeRole | null;
  /**
   * Starts the worker role's parts (the pipeline, the delivery worker) and the realtime
   * role's (WebSockets on the HTTP server, webhooks) if this process has those roles.
   */
  start(): Promise<void>;
  /** What GET /health/ready probes: the database, and Redis when the fan-out uses it. */
  readinessChecks: DependencyCheck[];
  /** Readiness answers 503 from now on (load balancers stop sending work); stop() begins with it. */
  drain(): void;
  /**
   * Graceful stop: readiness 503, sockets closed with 4200 (clients reconnect elsewhere at
   * once), HTTP stops accepting and finishes requests in flight, the pipeline finishes its
   * batches and releases its leases (announced, so a standby takes them at once), then the
   * delivery worker, the fan-out and the database.
   */
  stop(): Promise<void>;
}

export interface StoreFlowOptions {
  db?: Database;
  clock?: Clock;
  logger?: boolean | object;
  /** Extra subscribers (tests use probes); they run beside the built-in ones. */
  subscribers?: Subscriber[];
}

export async function createStoreFlow(config: Config, options: StoreFlowOptions = {}): Promise<StoreFlow> {
  // Credentials and the apps file first: a bad one stops the start before anything is opened.
  const pusher = await storeflowPusherApp(config);
  // Parts made before the HTTP server (whose logger everything shares once it exists) may
  // log early — a Redis that is down at start does — so they log through this.
  let appLog: FastifyBaseLogger = pino(options.logger === false ? { enabled: false } : { level: config.LOG_LEVEL });
  const logger = () => appLog;
  const realtime = config.roles.has('realtime') ? await createRealtimeRole(config, { own: pusher, logger }) : null;
  const db = options.db ?? (await openDatabase(config));
  const clock = options.clock ?? systemClock;
  await migrate(db);
  const seeded = config.STOREFLOW_SEED_DEMO ? await seedDemoIfEmpty(db) : null;
  const log = new EventLog('storeflow', () => clock.now());
  const tenancy = new TenancyStore(db);

  const notifier = new Notifier({ log, clock, publicBaseUrl: config.PUBLIC_BASE_URL });
  const merchantWebhooks = new MerchantWebhooks({ clock });
  // The broadcaster runs where the sockets are: with the in-process fan-out, a process that
  // has both the realtime and the worker role (the default). See ADR 0007. With Redis, any
  // worker can publish to the cluster, sockets or not (ADR 0008).
  const publisher =
    !realtime && config.REDIS_URL && config.roles.has('worker')
      ? new RedisPublisher({ url: config.REDIS_URL, prefix: realtimeRedisPrefix(config), apps: new StaticAppRegistry([pusher.app]), name: 'storeflow' })
      : null;
  publisher?.connect(3_000).catch(() => {});
  const broadcastControl = realtime?.node.control ?? publisher?.control;
  const broadcaster = broadcastControl
    ? [new Broadcaster({ realtime: broadcastControl, appId: pusher.app.id, clock, maxAgeMs: config.BROADCAST_MAX_AGE_SECONDS * 1000 })]
    : [];
  const subscribers: Subscriber[] = [storeCountersProjection, notifier, merchantWebhooks, ...broadcaster, ...(options.subscribers ?? [])];
  const pipelineAdmin = new PipelineAdmin(db, subscribers, clock);
  let logError: (subscription: string, err: unknown) => void = () => {};
  const metrics = createMetrics({
    log,
    admin: pipelineAdmin,
    logger: { warn: (o, m) => logger().warn(o, m) },
    ...(db instanceof PgDatabase && { pool: () => ({ total: db.pool.totalCount, idle: db.pool.idleCount, waiting: db.pool.waitingCount }) }),
  });
  if (realtime) {
    const redis = realtime.redis;
    metrics.observeRealtime({ counters: realtime.node.counters, webhooks: () => realtime.webhooks.stats(), ...(redis && { redis: () => redis.stats() }) });
  }
  const deliveries = createDeliveryWorker(config, { db, log, clock, logger });
  // Subscribers that fill the outbox wake the delivery worker once their transaction has committed.
  const enqueuers = new Set([notifier.name, merchantWebhooks.name]);
  const observer: PipelineObserver = {
    ...metrics.observer,
    handled: (s, name, lagMs) => {
      metrics.observer.handled(s, name, lagMs);
      if (enqueuers.has(s)) deliveries.wake();
    },
    error: (s, e) => logError(s, e),
  };
  const pipeline = new Pipeline({
    db,
    log,
    clock,
    observer,
    pollIntervalMs: config.PIPELINE_POLL_INTERVAL_MS,
    batchSize: config.PIPELINE_BATCH_SIZE,
    leaseRetryMs: config.PIPELINE_LEASE_RETRY_MS,
  });
  for (const s of subscribers) pipeline.register(s);
  log.onCommitted(() => pipeline.committed());

  let draining = false;
  const readinessChecks: DependencyCheck[] = [databaseCheck(db)];
  const realtimeRedis = realtime?.redis;
  if (realtimeRedis) readinessChecks.push({ name: 'redis', required: false, probe: () => realtimeRedis.ping() });
  // Rate-limit counters shared by every node of a cluster (a connection of their own); only
  // the web role has rate-limited routes.
  const rateLimitRedis = config.REDIS_URL && config.roles.has('web') ? createRedisConnection({ url: config.REDIS_URL, name: 'storeflow:ratelimit' }, 'command') : undefined;
  rateLimitRedis?.on('error', () => {});
  rateLimitRedis?.connect().catch(() => {});

  const minute = 60_000;
  const orders = new OrderStore(db, log, clock);
  const http = await buildHttp({
    db,
    log,
    clock,
    tenancy,
    orders,
    catalog: new CatalogStore(db, log, clock),
    pipelineAdmin,
    metrics,
    ...(rateLimitRedis && { rateLimitRedis: { client: rateLimitRedis, prefix: `${config.REDIS_KEY_PREFIX}rl:` } }),
    logger: options.logger ?? { level: config.LOG_LEVEL },
    // A process without the web role serves only what operations need (health, readiness,
    // metrics) and, with the realtime role, the Pusher endpoints.
    api: config.roles.has('web'),
    plugins: [
      ...(config.roles.has('web')
        ? [
            (app: FastifyInstance) => notificationRoutes(app, { db, clock, tenancy }),
            (app: FastifyInstance) => webhookEndpointRoutes(app, { db, clock, tenancy, allowPrivateTargets: config.WEBHOOK_ALLOW_PRIVATE_URLS }),
            (app: FastifyInstance) => broadcastingRoutes(app, { tenancy, orders, pusher: pusher.app }),
            (app: FastifyInstance) => clientRoutes(app, { db, tenancy, pusherKey: pusher.app.key }),
            (app: FastifyInstance) => webRoutes(app, { distDir: WEB_DIST_DIR }),
          ]
        : []),
      (app) => readinessRoutes(app, { checks: readinessChecks, draining: () => draining }),
      ...(realtime ? [(app: FastifyInstance) => realtime.routes(app)] : []),
    ],
    config: {
      bodyLimitBytes: config.BODY_LIMIT_BYTES,
      trustProxy: config.TRUST_PROXY,
      sessionTtlMs: config.SESSION_TTL_HOURS * 3_600_000,
      secureCookies: config.COOKIE_SECURE,
      lockout: { maxFailures: config.LOGIN_MAX_FAILURES, lockMs: config.LOGIN_LOCK_MINUTES * minute },
      loginRateLimit: { max: config.RATE_LIMIT_LOGIN_PER_MINUTE, timeWindow: minute },
      checkoutRateLimit: { max: config.RATE_LIMIT_CHECKOUT_PER_MINUTE, timeWindow: minute },
      commandRateLimit: { max: config.RATE_LIMIT_COMMANDS_PER_MINUTE, timeWindow: minute },
    },
  });
  appLog = http.log;
  logError = (subscription, err) => http.log.error({ err, subscription }, 'subscription error');

  let started = false;
  return {
    db,
    http,
    log,
    pipeline,
    pipelineAdmin,
    deliveries,
    seeded,
    pusher,
    realtime,
    readinessChecks,
    drain() {
      draining = true;
    },
    async start() {
      realtime?.start(http);
      if (config.roles.has('worker') && !started) {
        started = true;
        await pipeline.start();
        deliveries.start();
      }
    },
    async stop() {
      draining = true;
      await realtime?.closeSockets();
      await http.close();
      rateLimitRedis?.disconnect();
      if (started) await Promise.all([pipeline.stop(), deliveriesStopped(deliveries, logger)]);
      await realtime?.stop();
      await publisher?.close();
      if (!options.db) await db.close();
    },
  };
}

/**
 * Waits for the delivery worker's attempts in flight, but no longer than DELIVERY_STOP_GRACE_MS,
 * so one slow webhook receiver (attempts may take DELIVERY_TIMEOUT_MS) cannot push a shutdown
 * past main.ts's 10 s budget. An attempt cut off this way is made again once its claim expires
 * (delivery is at least once; receivers drop duplicates by event id).
 */
const DELIVERY_STOP_GRACE_MS = 3_000;

async function deliveriesStopped(deliveries: DeliveryWorker, logger: () => FastifyBaseLogger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<'grace'>((resolve) => {
    timer = setTimeout(() => resolve('grace'), DELIVERY_STOP_GRACE_MS);
  });
  const outcome = await Promise.race([deliveries.stop().then(() => 'stopped' as const), grace]);
  clearTimeout(timer);
  if (outcome === 'grace') logger().warn({ grace_ms: DELIVERY_STOP_GRACE_MS }, 'deliveries still in flight at shutdown; they will be retried');
}

/**
 * The outbox worker with a transport per channel: SMTP when SMTP_URL is set, else email is
 * logged; webhooks over HTTP; SMS and push are logged until a provider is wired in.
 */
function createDeliveryWorker(
  config: Config,
  deps: { db: Database; log: EventLog; clock: Clock; logger: () => DeliveryLogger },
): DeliveryWorker {
  const logger: DeliveryLogger = {
    info: (o, m) => deps.logger().info(o, m),
    warn: (o, m) => deps.logger().warn(o, m),
    error: (o, m) => deps.logger().error(o, m),
  };
  const timeoutMs = config.DELIVERY_TIMEOUT_MS;
  return new DeliveryWorker({
    db: deps.db,
    log: deps.log,
    clock: deps.clock,
    logger,
    transports: {
      email: config.SMTP_URL ? new SmtpEmailTransport({ url: config.SMTP_URL, from: config.EMAIL_FROM, timeoutMs }) : new LoggingTransport('email', logger),
      webhook: new WebhookTransport({ clock: deps.clock, allowPrivateTargets: config.WEBHOOK_ALLOW_PRIVATE_URLS }),
      sms: new LoggingTransport('sms', logger),
      push: new LoggingTransport('push', logger),
    },
    retry: { maxAttempts: config.DELIVERY_MAX_ATTEMPTS, baseDelayMs: config.DELIVERY_RETRY_BASE_MS, maxDelayMs: config.DELIVERY_RETRY_MAX_MS },
    attemptTimeoutMs: timeoutMs,
    concurrency: config.DELIVERY_CONCURRENCY,
    pollIntervalMs: config.DELIVERY_POLL_INTERVAL_MS,
  });
}
