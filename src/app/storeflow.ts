import { mkdir } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { buildHttp } from '../http/build-http.js';
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
  seeded: DemoSeed | null;
  stop(): Promise<void>;
}

export async function createStoreFlow(
  config: Config,
  options: { db?: Database; clock?: Clock; logger?: boolean | object } = {},
): Promise<StoreFlow> {
  const db = options.db ?? (await openDatabase(config));
  const clock = options.clock ?? systemClock;
  await migrate(db);
  const seeded = config.STOREFLOW_SEED_DEMO ? await seedDemoIfEmpty(db) : null;
  const log = new EventLog('storeflow-api', () => clock.now());
  const minute = 60_000;
  const http = await buildHttp({
    db,
    log,
    clock,
    orders: new OrderStore(db, log, clock),
    catalog: new CatalogStore(db, log, clock),
    tenancy: new TenancyStore(db),
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
  return {
    db,
    http,
    seeded,
    async stop() {
      await http.close();
      if (!options.db) await db.close();
    },
  };
}
