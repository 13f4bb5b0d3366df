import { mkdir } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { buildHttp } from '../http/build-http.js';
import { Pipeline, PipelineAdmin, type PipelineObserver, type Subscriber } from '../pipeline/index.js';
import { storeCountersProjection } from '../reactions/store-counters-projection.js';
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

/**
 * The one place that picks adapters and wires the parts: PGlite when no DATABASE_URL is
 * set, PostgreSQL otherwise. Long-running parts are started and stopped from here.
 */
export async function openDatabase(config: Config): Promise<Database> {
  if (config.DATABASE_URL) return new PgDatabase({ connectionString: config.DATABASE_URL, max: config.DATABASE_POOL_MAX });
  await mkdir(config.dataDir, { recursive: true });
  return PgliteDatabase.open(config.dataDir);
}

export interface StoreFlow {
  db: Database;
  http: FastifyInstance;
  log: EventLog;
  pipeline: Pipeline;
  pipelineAdmin: PipelineAdmin;
  seeded: DemoSeed | null;
  /** Starts the worker role's parts (the pipeline) if this process has that role. */
  start(): Promise<void>;
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
  const db = options.db ?? (await openDatabase(config));
  const clock = options.clock ?? systemClock;
  await migrate(db);
  const seeded = config.STOREFLOW_SEED_DEMO ? await seedDemoIfEmpty(db) : null;
  const log = new EventLog('storeflow', () => clock.now());
  const tenancy = new TenancyStore(db);

  const subscribers: Subscriber[] = [storeCountersProjection, ...(options.subscribers ?? [])];
  const pipelineAdmin = new PipelineAdmin(db, subscribers, clock);
  let logError: (subscription: string, err: unknown) => void = () => {};
  const metrics = createMetrics({ log, admin: pipelineAdmin, logger: { warn: (o, m) => http.log.warn(o, m) } });
  const observer: PipelineObserver = { ...metrics.observer, error: (s, e) => logError(s, e) };
  const pipeline = new Pipeline({
    db,
    log,
    clock,
    observer,
    pollIntervalMs: config.PIPELINE_POLL_INTERVAL_MS,
    batchSize: config.PIPELINE_BATCH_SIZE,
  });
  for (const s of subscribers) pipeline.register(s);
  log.onCommitted(() => pipeline.committed());

  const minute = 60_000;
  const http = await buildHttp({
    db,
    log,
    clock,
    tenancy,
    orders: new OrderStore(db, log, clock),
    catalog: new CatalogStore(db, log, clock),
    pipelineAdmin,
    metrics,
    logger: options.logger ?? { level: config.LOG_LEVEL },
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
  logError = (subscription, err) => http.log.error({ err, subscription }, 'subscription error');

  let started = false;
  return {
    db,
    http,
    log,
    pipeline,
    pipelineAdmin,
    seeded,
    async start() {
      if (config.roles.has('worker') && !started) {
        started = true;
        await pipeline.start();
      }
    },
    async stop() {
      await http.close();
      if (started) await pipeline.stop();
      if (!options.db) await db.close();
    },
  };
}
