import { readFileSync } from 'node:fs';

/** CPU time of a benchmark phase, in seconds; `others` is the machine's busy time not ours. */
export interface CpuUse {
  wall: number;
  self: number;
  postgres: number;
  machine: number;
  others: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** utime + stime of processes from /proc, in seconds (0 for a process that is gone). */
function processSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone, or no /proc
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** Busy CPU seconds of the whole machine (all cores) from /proc/stat; 0 without /proc. */
function machineSeconds(): number {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/) ?? [];
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields.map(Number);
    return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/**
 * Starts measuring; the returned function gives the CPU used since. On a small shared
 * machine a figure is only as good as the share of CPU it got: `others` says how much
 * went to processes that are neither this one nor its PostgreSQL backends.
 */
export function startCpuMeter(postgresPids: readonly number[] = []): () => CpuUse {
  const read = () => {
    const { user, system } = process.cpuUsage();
    return { at: performance.now(), self: (user + system) / 1e6, postgres: processSeconds(postgresPids), machine: machineSeconds() };
  };
  const before = read();
  return () => {
    const after = read();
    const self = after.self - before.self;
    const postgres = after.postgres - before.postgres;
    const machine = after.machine - before.machine;
    return { wall: (after.at - before.at) / 1000, self, postgres, machine, others: Math.max(0, machine - self - postgres) };
  };
}
