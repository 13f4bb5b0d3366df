import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, it } from 'vitest';
import { isCI } from './databases.js';
import { waitFor } from './waiting.js';

/**
 * Redis for tests: the machine's shared server (STOREFLOW_TEST_REDIS_URL, default
 * redis://127.0.0.1:6379) with a key prefix of each test's own, and private `redis-server`
 * processes on free loopback ports for tests that stop and restart Redis.
 *
 * Without CI an unreachable shared Redis skips the suite with "skipped: no Redis at …";
 * with CI=true the suite runs and fails loudly.
 */
export const REDIS_URL = process.env.STOREFLOW_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let redisProbe: Promise<string | null> | undefined;

/** Resolves to null when the shared Redis answers PING, else to the reason it does not. */
export function probeRedis(): Promise<string | null> {
  redisProbe ??= (async () => {
    const client = new Redis(REDIS_URL, {
      lazyConnect: true,
      connectTimeout: 2_000,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      const pong = await client.ping();
      return pong === 'PONG' ? null : `no Redis at ${redact(REDIS_URL)} (PING answered ${pong})`;
    } catch (e) {
      return `no Redis at ${redact(REDIS_URL)} (${(e as Error).message})`;
    } finally {
      client.disconnect();
    }
  })();
  return redisProbe;
}

const redact = (url: string) => url.replace(/\/\/[^@/]*@/, '//…@');

/**
 * A suite that needs the shared Redis. Skipped with the reason in its title when Redis is
 * unreachable (unless CI is set: then it runs and fails).
 */
export async function describeOnRedis(title: string, body: () => void): Promise<void> {
  const unavailable = isCI ? null : await probeRedis();
  if (unavailable) {
    describe.skip(`${title} — skipped: ${unavailable} (set STOREFLOW_TEST_REDIS_URL)`, () => {
      it('needs Redis', () => {});
    });
    console.warn(`skipped "${title}": ${unavailable}`);
    return;
  }
  describe(title, body);
}

let serverProbe: Promise<string | null> | undefined;

/** Resolves to null when a `redis-server` binary runs here, else to the reason it does not. */
export function probeRedisServer(): Promise<string | null> {
  serverProbe ??= new Promise((resolve) => {
    const child = spawn('redis-server', ['--version'], { stdio: 'ignore' });
    child.on('error', (e) => resolve(`no redis-server binary (${e.message})`));
    child.on('exit', (code) => resolve(code === 0 ? null : `redis-server --version exited with ${code}`));
  });
  return serverProbe;
}

/**
 * A suite that starts private redis-server processes (startPrivateRedis). Skipped with the
 * reason in its title when the binary is missing (unless CI is set: then it runs and fails).
 */
export async function describeWithRedisServer(title: string, body: () => void): Promise<void> {
  const unavailable = isCI ? null : await probeRedisServer();
  if (unavailable) {
    describe.skip(`${title} — skipped: ${unavailable}`, () => {
      it('needs redis-server', () => {});
    });
    console.warn(`skipped "${title}": ${unavailable}`);
    return;
  }
  describe(title, body);
}

/** A key (and pub/sub channel) prefix no other test uses: `sftest:<random>:`. */
export function redisTestPrefix(): string {
  return `sftest:${randomBytes(6).toString('hex')}:`;
}

/** A plain client of the shared Redis (or `url`); disconnect it yourself. */
export function redisClient(url = REDIS_URL): Redis {
  const client = new Redis(url, { connectTimeout: 2_000, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  return client;
}

/** Deletes every key under `prefix` (SCAN, never KEYS), e.g. in afterEach. */
export async function deleteRedisKeys(prefix: string, url = REDIS_URL): Promise<number> {
  if (!prefix.startsWith('sftest:')) throw new Error(`refusing to delete keys outside sftest:* (${prefix})`);
  const client = redisClient(url);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return deleted;
}

/** A redis-server child process of this test, on a free 127.0.0.1 port, without persistence. */
export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** Whether the process is running (started and not yet seen to exit). */
  running(): boolean;
  /** Stops the server (SIGTERM: a clean shutdown; SIGKILL: a crash) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and waits until it answers PING. */
  start(): Promise<void>;
  /** Output of the current process (for failure messages). */
  output(): string;
}

const privateServers = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of privateServers) child.kill('SIGKILL');
});

/**
 * Starts a private Redis; call stop() when done (afterAll). `persistent`: an append-only
 * file in a temporary directory of its own, so a restart (stop with SIGTERM, start) keeps
 * the data, as a production Redis with AOF or a promoted replica would.
 */
export async function startPrivateRedis(options: { persistent?: boolean } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const persistence = options.persistent
    ? ['--appendonly', 'yes', '--dir', mkdtempSync(join(tmpdir(), 'sftest-redis-'))]
    : ['--appendonly', 'no'];
  let child: ChildProcess | undefined;
  let exited = true;
  let out = '';

  const start = async (): Promise<void> => {
    if (child && !exited) return;
    out = '';
    exited = false;
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    privateServers.add(proc);
    const keep = (chunk: Buffer) => {
      out = (out + chunk.toString('utf8')).slice(-10_000);
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    proc.on('exit', () => {
      exited = true;
      privateServers.delete(proc);
    });
    proc.on('error', (e) => {
      out += `\nspawn failed: ${e.message}`;
      exited = true;
    });
    await waitFor(
      `private redis-server on port ${port} to answer (output: ${out.slice(-500)})`,
      async () => {
        if (exited) throw new Error(`redis-server exited: ${out.slice(-1_000)}`);
        return (await ping(port)) === true;
      },
      10_000,
    );
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    running: () => !exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (!child || exited) return;
      child.kill(signal);
      await waitFor(`private redis-server ${child.pid} to exit after ${signal}`, () => exited, 10_000);
    },
    start,
    output: () => out,
  };
}

/** A port nobody listens on right now (the kernel picks it; closed before we return). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** One inline PING over a raw socket, bounded to 500 ms: true when the server answers +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (d) => done(d.toString('utf8').startsWith('+PONG')));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}
