import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * Every setting comes from the environment, validated once at start. The README's
 * configuration table lists the same names and defaults; a test keeps them in step.
 */
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** Pusher app ids and keys: they appear in URLs (/app/{key}, /apps/{id}/…) unescaped. */
export const APP_ID = /^[A-Za-z0-9._-]{1,64}$/;

export const CONFIG_SCHEMA = z.object({
  PORT: int(0, 65535).default(8080).describe('HTTP port'),
  HOST: z.string().min(1).default('127.0.0.1').describe('Interface to listen on (0.0.0.0 for all)'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional()
    .describe('PostgreSQL connection string; unset means embedded PGlite'),
  STOREFLOW_DATA_DIR: z.string().min(1).default('./.storeflow').describe('PGlite data folder (embedded mode)'),
  DATABASE_POOL_MAX: int(1, 200).default(10).describe('PostgreSQL connections per process'),
  DATABASE_CONNECT_TIMEOUT_MS: int(100, 120_000)
    .default(5000)
    .describe('Longest a request waits for a PostgreSQL connection (new or from a full pool) before answering 503 DATABASE_UNAVAILABLE'),
  DATABASE_STATEMENT_TIMEOUT_MS: int(100, 3_600_000).default(15_000).describe('Server-side limit on any one SQL statement (PostgreSQL statement_timeout); a server that does not answer at all is given up on 2 s later'),
  STOREFLOW_SEED_DEMO: bool.default(true).describe('Seed the demo merchant when the database is empty'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level'),
  SESSION_TTL_HOURS: int(1, 24 * 30).default(12).describe('Dashboard session lifetime'),
  LOGIN_MAX_FAILURES: int(1, 100).default(5).describe('Failed sign-ins before the account locks'),
  LOGIN_LOCK_MINUTES: int(1, 24 * 60).default(15).describe('How long a locked account stays locked'),
  COOKIE_SECURE: bool.default(false).describe('Mark the session cookie Secure (set true behind HTTPS)'),
  BODY_LIMIT_BYTES: int(1024, 10 * 1024 * 1024).default(64 * 1024).describe('Largest accepted request body'),
  TRUST_PROXY: bool.default(false).describe('Trust X-Forwarded-* from a reverse proxy'),
  STOREFLOW_ROLES: z
    .string()
    .regex(/^(web|realtime|worker)(,(web|realtime|worker))*$/, 'a comma-separated list of web, realtime, worker')
    .default('web,realtime,worker')
    .describe(
      'What this process runs: web (HTTP API), realtime (WebSockets at /app/{key}, the Pusher HTTP API, broadcasting with worker), worker (event pipeline and email/webhook deliveries)',
    ),
  PUSHER_APP_ID: z
    .string()
    .regex(APP_ID, 'letters, digits, ".", "_" or "-" (1 to 64)')
    .optional()
    .describe("StoreFlow's own Pusher app id; unset (with key and secret) means generated once into <STOREFLOW_DATA_DIR>/pusher-app.json"),
  PUSHER_APP_KEY: z.string().regex(APP_ID, 'letters, digits, ".", "_" or "-" (1 to 64)').optional().describe("StoreFlow's own Pusher app key (what clients connect to: /app/<key>)"),
  PUSHER_APP_SECRET: z.string().min(16).max(256).optional().describe("StoreFlow's own Pusher app secret (at least 16 characters)"),
  STOREFLOW_APPS_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('JSON file of further Pusher apps served beside StoreFlow\'s own (see "Real-time")'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional()
    .describe('Redis for a cluster of nodes: fan-out, presence, channel counts, cache channels and rate-limit counters shared by every node; unset means one node on its own'),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits, ".", "_", ":" or "-" (1 to 64)')
    .default('storeflow:')
    .describe('Prefix of every Redis key and pub/sub channel of this cluster (clusters sharing a Redis need different ones)'),
  REALTIME_NODE_TTL_MS: int(500, 600_000)
    .default(5000)
    .describe('With Redis: a node that has not heartbeaten (every fifth of this) for this long is dead, and its members are removed within this plus a heartbeat'),
  BROADCAST_MAX_AGE_SECONDS: int(0, 7 * 24 * 3600)
    .default(300)
    .describe('Events older than this are not broadcast (clients catch up over HTTP); 0 = no limit'),
  PIPELINE_POLL_INTERVAL_MS: int(10, 60_000).default(1000).describe('Longest a subscription waits before looking for new events'),
  PIPELINE_BATCH_SIZE: int(1, 10_000).default(100).describe('Events a subscription reads per batch'),
  PIPELINE_LEASE_RETRY_MS: int(50, 600_000)
    .default(2000)
    .describe('How often a standby worker tries to take a subscription whose holder vanished (a lease released on shutdown is taken at once)'),
  PUBLIC_BASE_URL: z
    .url({ protocol: /^https?$/ })
    .default('http://127.0.0.1:8080')
    .describe('Where people reach the web app; links in emails and notifications start here'),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
    .optional()
    .describe('SMTP server for email (smtp://user:pass@host:587, smtps://…); unset means emails are only logged'),
  EMAIL_FROM: z.string().min(3).max(254).default('notifications@storeflow.invalid').describe('Sender address of notification emails'),
  DELIVERY_POLL_INTERVAL_MS: int(10, 60_000).default(1000).describe('Longest the delivery worker waits before looking for due emails and webhooks'),
  DELIVERY_CONCURRENCY: int(1, 256).default(8).describe('Deliveries one process sends at once'),
  DELIVERY_TIMEOUT_MS: int(50, 300_000).default(10_000).describe('Longest one delivery attempt (SMTP or webhook call) may take'),
  DELIVERY_MAX_ATTEMPTS: int(1, 100).default(10).describe('Attempts before a delivery is parked as a dead letter'),
  DELIVERY_RETRY_BASE_MS: int(1, 3_600_000).default(5000).describe('First retry delay of a failed delivery; doubles per attempt, with jitter'),
  DELIVERY_RETRY_MAX_MS: int(1, 86_400_000).default(3_600_000).describe('Longest delay between two attempts of a delivery'),
  WEBHOOK_ALLOW_PRIVATE_URLS: bool.default(false).describe('Let webhooks call loopback/private addresses (development and tests only)'),
  RATE_LIMIT_LOGIN_PER_MINUTE: int(1, 100_000).default(10).describe('Sign-in attempts per client address per minute'),
  RATE_LIMIT_CHECKOUT_PER_MINUTE: int(1, 100_000).default(30).describe('Checkouts per client address per minute'),
  RATE_LIMIT_COMMANDS_PER_MINUTE: int(1, 1_000_000).default(120).describe('Order commands per signed-in caller per minute'),
});

export type Role = 'web' | 'realtime' | 'worker';
export type Config = z.infer<typeof CONFIG_SCHEMA> & { dataDir: string; roles: ReadonlySet<Role> };

const PUSHER_CREDENTIALS = ['PUSHER_APP_ID', 'PUSHER_APP_KEY', 'PUSHER_APP_SECRET'] as const;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = Object.fromEntries(Object.keys(CONFIG_SCHEMA.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const parsed = CONFIG_SCHEMA.safeParse(known);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const given = PUSHER_CREDENTIALS.filter((k) => parsed.data[k] !== undefined);
  if (given.length > 0 && given.length < PUSHER_CREDENTIALS.length) {
    // Half a set of credentials is a typo, not a wish to have some generated.
    throw new Error(`Invalid configuration:\n  ${PUSHER_CREDENTIALS.join(', ')}: set all three or none`);
  }
  return {
    ...parsed.data,
    dataDir: resolve(parsed.data.STOREFLOW_DATA_DIR),
    roles: new Set(parsed.data.STOREFLOW_ROLES.split(',') as Role[]),
  };
}
