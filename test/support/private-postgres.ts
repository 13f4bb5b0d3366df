import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './redis.js';
import { waitFor } from './waiting.js';

const run = promisify(execFile);

/**
 * A PostgreSQL server of this test's own, for tests that stop and restart it: initdb into a
 * temporary folder as the `postgres` user (initdb refuses root), on a free 127.0.0.1 port
 * with its socket in that folder, trust authentication, no fsync. It never touches the
 * machine's shared cluster. Needs the PostgreSQL binaries (PG_BIN, default
 * /usr/lib/postgresql/15/bin) and `runuser` when this process is root.
 */
export const PG_BIN = process.env.STOREFLOW_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PrivatePostgres {
  readonly port: number;
  /** Connection string of its `postgres` database. */
  readonly url: string;
  /** Stops the server: `fast` disconnects every session (57P01), `immediate` is a crash. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port and waits until it accepts connections. */
  start(): Promise<void>;
  /**
   * SIGSTOPs the server and every backend: connections stay open but nothing answers, as
   * with a hung host or a network that drops packets. `thaw()` (SIGCONT) resumes them.
   */
  freeze(): void;
  thaw(): void;
  /** Stops it (if running) and deletes its folder. */
  destroy(): Promise<void>;
  /** The server log, for failure messages. */
  log(): string;
}

const clusters = new Set<string>();
process.once('exit', () => {
  for (const dir of clusters) {
    try {
      execFileSync(...asPostgres(`${PG_BIN}/pg_ctl`, ['-D', dir, '-m', 'immediate', 'stop']), { stdio: 'ignore' });
    } catch {
      // already stopped
    }
  }
});

/** A reason this machine cannot run a private PostgreSQL, or null when it can. */
export async function privatePostgresUnavailable(): Promise<string | null> {
  try {
    await run(`${PG_BIN}/initdb`, ['--version']);
    return null;
  } catch (e) {
    return `no PostgreSQL binaries at ${PG_BIN} (${(e as Error).message})`;
  }
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'storeflow-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) chownSync(dir, uid('postgres'), gid('postgres'));
  await run(...asPostgres(`${PG_BIN}/initdb`, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']));
  clusters.add(data);
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`;
  const logFile = join(dir, 'server.log');
  const ctl = (args: string[]) => run(...asPostgres(`${PG_BIN}/pg_ctl`, ['-D', data, ...args]));

  const server: PrivatePostgres = {
    port,
    url,
    async start() {
      await ctl(['-o', options, '-l', logFile, '-w', '-t', '20', 'start']);
      await waitFor(`private PostgreSQL on port ${port} to accept connections`, () => accepts(url), 20_000);
    },
    async stop(mode = 'fast') {
      await ctl(['-m', mode, '-w', '-t', '20', 'stop']).catch((e: unknown) => {
        if (!/Is server running|no server running/i.test(String((e as { stderr?: string }).stderr ?? e))) throw e;
      });
    },
    freeze() {
      signalAll('SIGSTOP');
    },
    thaw() {
      signalAll('SIGCONT');
    },
    async destroy() {
      signalAll('SIGCONT');
      await server.stop('immediate').catch(() => {});
      clusters.delete(data);
      rmSync(dir, { recursive: true, force: true });
    },
    log() {
      try {
        return execFileSync('tail', ['-n', '40', logFile], { encoding: 'utf8' });
      } catch {
        return '';
      }
    },
  };
  /** The postmaster (first line of postmaster.pid) and its children, signalled by pid. */
  function signalAll(signal: NodeJS.Signals): void {
    let postmaster: number;
    try {
      postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      return;
    }
    let listing = '';
    try {
      listing = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' });
    } catch {
      // no children
    }
    const children = listing
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((pid) => pid > 0);
    for (const pid of [postmaster, ...children]) {
      try {
        process.kill(pid, signal);
      } catch {
        // gone meanwhile
      }
    }
  }

  await server.start();
  return server;
}

async function accepts(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function asPostgres(file: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
}

const uid = (user: string) => Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
const gid = (user: string) => Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
