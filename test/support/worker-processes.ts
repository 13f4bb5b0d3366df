import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './waiting.js';

const WORKER = fileURLToPath(new URL('./pipeline-worker.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Pipeline worker child processes (test/support/pipeline-worker.ts) for the reliability
 * suites: started with `node --import tsx`, watched line by line, killed by their own pid.
 */
export interface WorkerProcess {
  readonly pid: number;
  /** `subscriptions.holder` of this process: `<hostname>:<pid>`. */
  holderId: string;
  /** Lines the worker printed so far. */
  readonly lines: string[];
  readonly exited: Promise<number | null>;
  hasExited(): boolean;
  /** Waits until the worker has printed a line starting with `prefix` at least `times` times. */
  waitForLine(prefix: string, times?: number, timeoutMs?: number): Promise<void>;
  /** Sends `signal` and waits (bounded) until the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  stderr(): string;
}

const running = new Set<WorkerProcess>();

export function startWorker(env: Record<string, string>): WorkerProcess {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('could not start the pipeline worker');
  const lines: string[] = [];
  let err = '';
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err = (err + chunk).slice(-20_000);
  });
  let gone = false;
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      gone = true;
      resolve(code);
    });
  });
  const worker: WorkerProcess = {
    pid: child.pid,
    holderId: '',
    lines,
    exited,
    hasExited: () => gone,
    async waitForLine(prefix, times = 1, timeoutMs = 30_000) {
      const printed = () => lines.filter((l) => l.startsWith(prefix)).length >= times;
      // A worker that exits first fails the wait at once, rather than after the timeout.
      const died = exited.then((code) => {
        if (!printed()) throw new Error(`worker ${child.pid} exited (code ${code}) before printing "${prefix}" ×${times}; stderr: ${err.slice(-2000)}`);
      });
      await Promise.race([waitFor(`worker ${child.pid} to print "${prefix}" ×${times} (stderr: ${err.slice(-500)})`, printed, timeoutMs), died]);
    },
    async kill(signal = 'SIGKILL') {
      if (!gone) child.kill(signal);
      await waitFor(`worker ${child.pid} to exit after ${signal}`, () => gone, 15_000);
      running.delete(worker);
    },
    stderr: () => err,
  };
  void exited.then(() => running.delete(worker));
  running.add(worker);
  return worker;
}

/** Starts a worker and waits until it is running; fills in its holder id. */
export async function startedWorker(env: Record<string, string>): Promise<WorkerProcess> {
  const worker = startWorker(env);
  await worker.waitForLine('ready');
  worker.holderId = worker.lines.find((l) => l.startsWith('ready '))!.slice('ready '.length);
  return worker;
}

/** Kills every worker this test process started and has not seen exit (afterEach). */
export async function killAllWorkers(): Promise<void> {
  await Promise.all([...running].map((w) => w.kill('SIGKILL')));
}
