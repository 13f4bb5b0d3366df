import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_PUSHER_APP } from './http-app.js';
import { freePort } from './redis.js';
import { waitFor } from './waiting.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/app/main.ts', import.meta.url));

/**
 * StoreFlow nodes as real processes (`node --import tsx src/app/main.ts`) for the failure
 * suites: each on a free loopback port with its own data folder, started and watched line
 * by line (pino JSON on stdout), stopped by its own pid. `startProxy` is the load balancer:
 * a round-robin TCP proxy (HTTP and WebSocket alike) that skips nodes refusing connections.
 */
export interface NodeProcess {
  readonly pid: number;
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly lines: string[];
  readonly exited: Promise<number | null>;
  hasExited(): boolean;
  /** Waits until a stdout line matches. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends `signal` and waits (bounded) until the process is gone; answers its exit code. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  output(): string;
}

/** Settings every test node gets: StoreFlow's test Pusher app, no throttling, loopback. */
export const NODE_ENV = {
  HOST: '127.0.0.1',
  PUSHER_APP_ID: TEST_PUSHER_APP.id,
  PUSHER_APP_KEY: TEST_PUSHER_APP.key,
  PUSHER_APP_SECRET: TEST_PUSHER_APP.secret,
  RATE_LIMIT_LOGIN_PER_MINUTE: '100000',
  RATE_LIMIT_CHECKOUT_PER_MINUTE: '100000',
  RATE_LIMIT_COMMANDS_PER_MINUTE: '1000000',
  STOREFLOW_SEED_DEMO: 'true',
  LOG_LEVEL: 'info',
};

const EXITED = Symbol('exited');
const running = new Set<NodeProcess>();
// A test process that dies without its afterEach leaves no node behind.
process.once('exit', () => {
  for (const node of running) {
    try {
      process.kill(node.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Starts a node with `env` (over NODE_ENV) and waits for its "StoreFlow listening" line. */
export async function startNode(env: Record<string, string>, args: string[] = []): Promise<NodeProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'storeflow-node-'));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start', ...args], {
    cwd: ROOT,
    env: { ...process.env, CI: process.env.CI ?? '', ...NODE_ENV, STOREFLOW_DATA_DIR: dataDir, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('could not start a StoreFlow node');
  const lines: string[] = [];
  let out = '';
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out = (out + chunk).slice(-20_000);
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    out = (out + chunk).slice(-20_000);
  });
  let gone = false;
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      gone = true;
      rmSync(dataDir, { recursive: true, force: true });
      resolve(code);
    });
  });
  const node: NodeProcess = {
    pid: child.pid,
    port,
    url: `http://127.0.0.1:${port}`,
    lines,
    exited,
    hasExited: () => gone,
    async waitForLine(pattern, timeoutMs = 30_000) {
      // A node that exited fails the wait at once (waitFor itself would retry a throw until its timeout).
      const found = await waitFor(`node ${child.pid} to print ${pattern}`, () => lines.find((l) => pattern.test(l)) ?? (gone ? EXITED : undefined), timeoutMs);
      if (found === EXITED) throw new Error(`node ${child.pid} exited before printing ${pattern}; output: ${out.slice(-3_000)}`);
      return found;
    },
    async kill(signal = 'SIGKILL') {
      if (!gone) child.kill(signal);
      await waitFor(`node ${child.pid} to exit after ${signal}`, () => gone, 15_000);
      running.delete(node);
      return exited;
    },
    output: () => out,
  };
  running.add(node);
  void exited.then(() => running.delete(node));
  await node.waitForLine(/StoreFlow listening on/, 60_000);
  return node;
}

/** Kills every node this test process started and has not seen exit (afterEach). */
export async function killAllNodes(): Promise<void> {
  await Promise.all([...running].map((n) => n.kill('SIGKILL')));
}

export interface TcpProxy {
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** Connections made to each backend port so far. */
  readonly connections: Map<number, number>;
  close(): Promise<void>;
}

/**
 * A round-robin load balancer on a free loopback port, at the TCP level (HTTP and WebSocket
 * pass through untouched): each client connection goes to the next backend; one that refuses
 * is skipped (each backend tried once). WebSocket upgrades and plain HTTP connections take
 * turns separately (told apart by the first bytes), so sockets spread over the nodes however
 * they interleave with HTTP calls. A backend that dies takes its connections with it, as with
 * a real load balancer.
 */
export async function startProxy(backends: readonly number[]): Promise<TcpProxy> {
  const turn = { ws: 0, http: 0 };
  const sockets = new Set<Socket>();
  const connections = new Map<number, number>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  const server: Server = createServer((client) => {
    track(client);
    client.on('error', () => {});
    const attempt = (first: Buffer, kind: keyof typeof turn, tries: number) => {
      if (tries >= backends.length) return client.destroy();
      const port = backends[turn[kind]++ % backends.length] as number;
      const upstream = createConnection({ port, host: '127.0.0.1' });
      track(upstream);
      let connected = false;
      upstream.once('error', () => {
        if (!connected) attempt(first, kind, tries + 1);
      });
      upstream.once('connect', () => {
        connected = true;
        connections.set(port, (connections.get(port) ?? 0) + 1);
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        upstream.write(first);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    client.once('data', (first: Buffer) => {
      client.pause();
      attempt(first, /\r\nupgrade:\s*websocket/i.test(first.toString('latin1')) ? 'ws' : 'http', 0);
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
