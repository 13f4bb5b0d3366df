import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ConnectOptions, ConnectResult, LoadSnapshot, Receipt } from './load-clients.js';
import type { LoadRequest } from './load.js';

/**
 * The benchmark's child processes (server under test, load generator, StoreFlow app) and
 * what /proc says about them. Every child is registered and killed on exit, SIGINT and
 * SIGTERM; the Node children also exit on their own when their stdin / IPC channel closes.
 */
export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const children = new Set<ChildProcess>();
const groups = new Set<number>();

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Clients per source address (127.0.0.x): well under the ephemeral port range of one address. */
export const PER_ADDRESS = 2_000;

/**
 * Source-address blocks for successive runs of `connections` clients (plus `spare` addresses
 * each), so no run meets the last one's TIME_WAITs; wraps within 127.0.0.2–252.
 */
export function addressBlocks(connections: number, spare = 1): () => number {
  let cursor = 0;
  return () => {
    const needed = Math.ceil(connections / PER_ADDRESS) + spare;
    if (cursor + needed > 250) cursor = 0;
    const first = 2 + cursor;
    cursor += needed;
    return first;
  };
}

const cleanups = new Set<() => Promise<void>>();

/** Registers async cleanup (e.g. dropping a database) run by `cleanUp()`; returns its remover. */
export function addCleanup(fn: () => Promise<void>): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** Kills every child, then runs the registered cleanups (each bounded to 15 s). */
export async function cleanUp(): Promise<void> {
  killChildren();
  for (const fn of [...cleanups]) {
    cleanups.delete(fn);
    await Promise.race([fn().catch((e: unknown) => console.error('cleanup failed:', e instanceof Error ? e.message : e)), sleep(15_000)]);
  }
}

export function killChildren(): void {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Registers a child; `group` children were started detached and are killed as a process group. */
export function track(child: ChildProcess, group = false): void {
  children.add(child);
  if (group && child.pid) groups.add(child.pid);
  child.once('exit', () => {
    children.delete(child);
    if (child.pid) groups.delete(child.pid);
  });
}

// ---- /proc ----------------------------------------------------------------------------------
const TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process, in seconds (NaN once it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return NaN;
  }
}

/**
 * CPU seconds of the whole machine (all cores) from /proc/stat: busy, and of that softirq,
 * which this kernel does not charge to any process (loopback TCP input of our own traffic
 * mostly lands there), and steal (the hypervisor ran someone else).
 */
export function machineSeconds(): { busy: number; softirq: number; steal: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return { busy: (user + nice + system + irq + softirq + steal) / TICKS, softirq: softirq / TICKS, steal: steal / TICKS };
}

/** CPU seconds of every process now, by pid, with its command name. */
export function allProcesses(): Map<number, { name: string; cpu: number }> {
  const out = new Map<number, { name: string; cpu: number }>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, { name, cpu: (Number(fields[11]) + Number(fields[12])) / TICKS });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Cores used between two allProcesses() readings, summed by command name, busiest first. */
export function busiest(before: ReturnType<typeof allProcesses>, after: ReturnType<typeof allProcesses>, seconds: number, top = 6): [string, number][] {
  const byName = new Map<string, number>();
  for (const [pid, p] of after) byName.set(p.name, (byName.get(p.name) ?? 0) + p.cpu - (before.get(pid)?.cpu ?? 0));
  return [...byName].map(([n, cpu]) => [n, Math.round((cpu / seconds) * 100) / 100] as [string, number]).sort((a, b) => b[1] - a[1]).slice(0, top);
}

/** Resident set size in bytes. */
export function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** Compiles raw-server.c with the machine's cc into a temp dir; undefined (with a message) if it cannot. */
export function compileRawServer(): { binary: string; cleanup: () => void } | undefined {
  try {
    const dir = mkdtempSync(join(tmpdir(), 'realtime-raw-'));
    const binary = join(dir, 'raw-server');
    execFileSync('cc', ['-O2', '-o', binary, join(REPO, 'bench/realtime/raw-server.c')], { stdio: ['ignore', 'inherit', 'inherit'] });
    return { binary, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (e) {
    console.error(`skipping the C baseline: could not compile it with cc (${e instanceof Error ? e.message : e})`);
    return undefined;
  }
}

// ---- servers under test: line protocol on stdin/stdout ----------------------------------------
export type ServerKind = 'realtime' | 'raw-node' | 'raw-c';

export interface ServerChild {
  kind: ServerKind;
  pid: number;
  port: number;
  send(line: string): void;
  /** The JSON of the next stdout line starting with `word`. */
  reply<T>(word: string, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

export async function startServer(
  kind: ServerKind,
  options: { nodeArgs?: string[]; serverArgs?: string[]; rawBinary?: string } = {},
): Promise<ServerChild> {
  const child =
    kind === 'raw-c'
      ? spawn(options.rawBinary ?? 'false', [], { stdio: ['pipe', 'pipe', 'inherit'] })
      : spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', 'bench/realtime/server.ts', '--kind', kind, ...(options.serverArgs ?? [])], {
          cwd: REPO,
          stdio: ['pipe', 'pipe', 'inherit'],
        });
  track(child);
  const waiting = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }[]>();
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  lines.on('line', (line) => {
    const space = line.indexOf(' ');
    const word = space > 0 ? line.slice(0, space) : line;
    const queue = waiting.get(word);
    const next = queue?.shift();
    if (next) next.resolve(JSON.parse(line.slice(space + 1)));
    else process.stderr.write(`[${kind} server] ${line}\n`);
  });
  const reply = <T>(word: string, timeoutMs = 120_000) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${kind} server: no "${word}" within ${timeoutMs} ms`)), timeoutMs);
      const entry = {
        resolve: (v: unknown) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject,
      };
      waiting.set(word, [...(waiting.get(word) ?? []), entry]);
    });
  const exited = once(child, 'exit');
  void exited.then(() => {
    for (const queue of waiting.values()) for (const w of queue) w.reject(new Error(`${kind} server exited (code ${child.exitCode})`));
    waiting.clear();
  });
  const ready = await reply<{ port: number; pid: number }>('ready', 30_000);
  return {
    kind,
    pid: ready.pid,
    port: ready.port,
    send: (line) => child.stdin?.write(`${line}\n`),
    reply,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.stdin?.write('stop\n');
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

// ---- the load generator: IPC requests -------------------------------------------------------
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface LoadChild {
  pid: number;
  connect(options: ConnectOptions): Promise<ConnectResult>;
  snapshot(): Promise<LoadSnapshot>;
  latencies(): Promise<number[]>;
  receipts(): Promise<Receipt[]>;
  stop(): Promise<void>;
}

export async function startLoad(): Promise<LoadChild> {
  const child = fork('bench/realtime/load.ts', [], { cwd: REPO, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  track(child);
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (m: { id: number; result?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error !== undefined) p?.reject(new Error(m.error));
    else p?.resolve(m.result);
  });
  child.once('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`load generator exited (code ${code})`));
    pending.clear();
  });
  const ask = <T>(request: WithoutId<LoadRequest>) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: (v) => resolve(v as T), reject });
      child.send({ ...request, id });
    });
  await new Promise<void>((resolve, reject) => {
    pending.set(0, { resolve: () => resolve(), reject });
  });
  return {
    pid: child.pid ?? 0,
    connect: (options) => ask({ cmd: 'connect', options }),
    snapshot: () => ask({ cmd: 'snapshot' }),
    latencies: () => ask({ cmd: 'latencies' }),
    receipts: () => ask({ cmd: 'receipts' }),
    stop: async () => {
      if (child.exitCode !== null) return;
      await ask({ cmd: 'close' }).catch(() => {});
      const exited = once(child, 'exit');
      child.disconnect();
      await Promise.race([exited, sleep(5_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
