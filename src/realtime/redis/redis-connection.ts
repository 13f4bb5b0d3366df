import { Redis } from 'ioredis';

/**
 * How every Redis connection of the real-time server is made. Commands never wait for a
 * connection: with no offline queue and no retries a command on a broken connection rejects
 * at once, and one in flight rejects after `commandTimeoutMs` — a Redis outage costs a
 * caller milliseconds, never a hang. The connection itself reconnects forever (backoff up to
 * 1 s), and a subscriber connection resubscribes by itself when it is back.
 */
export interface RedisConnectionOptions {
  url: string;
  /** Bound on any one command once sent (default 1 000 ms). */
  commandTimeoutMs?: number;
  /** Name shown by CLIENT LIST, to tell nodes and roles apart. */
  name?: string;
}

export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 1_000;
/** The longest a broken connection waits between attempts to reconnect. */
export const REDIS_RECONNECT_MAX_MS = 1_000;

export function createRedisConnection(o: RedisConnectionOptions, role: 'command' | 'subscriber'): Redis {
  const client = new Redis(o.url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    commandTimeout: o.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    // A subscriber queues its SUBSCRIBE until connected; a command connection refuses instead.
    enableOfflineQueue: role === 'subscriber',
    autoResubscribe: true,
    retryStrategy: (attempt) => Math.min(attempt * 100, REDIS_RECONNECT_MAX_MS),
    ...(o.name !== undefined && { connectionName: o.name.replace(/[^A-Za-z0-9_.:-]/g, '_') }),
  });
  return client;
}

/** Connects `client`; resolves once it is ready or after `timeoutMs` (it keeps retrying then). */
export async function connectWithin(client: Redis, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return true;
  if (client.status === 'wait') client.connect().catch(() => {});
  return new Promise<boolean>((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    client.on('ready', onReady);
  });
}

/** QUIT when connected (bounded), else just drop the connection. */
export async function quit(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    await Promise.race([client.quit().catch(() => {}), new Promise((r) => setTimeout(r, 1_000).unref())]);
  }
  client.disconnect();
}

/**
 * Tells `onError` about a connection's errors once per outage — the first error since it
 * was last ready — rather than on every reconnect attempt (several a second while Redis is
 * down). ioredis needs an error listener anyway, or it logs unhandled errors itself.
 */
export function reportOutages(client: Redis, onError: (error: unknown) => void): void {
  let reported = false;
  client.on('ready', () => {
    reported = false;
  });
  client.on('error', (error: unknown) => {
    if (reported) return;
    reported = true;
    onError(error);
  });
}
