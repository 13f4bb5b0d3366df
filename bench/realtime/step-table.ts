import type { FanoutResult, StepResult } from './fanout-run.js';
import { fmt, printColumns } from './report.js';

/**
 * The server kept up with a step when (nearly) everything due went out, all of it arrived and
 * messages left on average within half their interval (at least 20 ms: timers are not exact).
 * A step it did not keep up with is still measured, but there messages due together leave in
 * one write per socket, so its CPU per delivery is not that of messages arriving one by one.
 */
export const keptUp = (st: StepResult): boolean =>
  st.skipped <= Math.max(1, st.published / 1000) &&
  st.delivered === st.expected &&
  st.publisherLateMs.mean <= Math.max(20, 500 / st.rates.reduce((a, b) => a + b, 0));

/** One row per step of a fan-out run. */
export function printSteps(title: string, r: FanoutResult, seconds: number, target?: number): void {
  const rows = r.steps.map((st) => [
    st.rates.map((x) => fmt(x)).join(' + '),
    fmt(st.published),
    `${fmt(st.delivered)}${st.delivered < st.expected ? ` of ${fmt(st.expected)}` : ''}`,
    fmt(st.deliveriesPerSecond),
    st.serverCores,
    fmt(st.deliveriesPerServerCpuSecond),
    `${st.publisherLateMs.mean} / ${st.publisherLateMs.max}${st.skipped ? ` (${fmt(st.skipped)} skipped)` : ''}`,
    `${st.latencyMs.p50} / ${st.latencyMs.p99}`,
    `${st.loadCores} / ${st.softirqCores} / ${st.otherCores}`,
    keptUp(st) ? 'yes' : 'NO',
    ...(target ? [st.deliveriesPerServerCpuSecond >= target ? 'met' : 'MISSED'] : []),
  ]);
  const lost = r.steps.flatMap((st) => Object.entries(st.lostClients).map(([k, v]) => `${v} x ${k}`));
  const headers = ['msg/s', 'published', 'delivered', 'deliveries/s', 'server cores', 'deliv / CPU-s', 'late mean / max ms', 'p50 / p99 ms', 'load / softirq / others', 'kept up'];
  printColumns(title, target ? [...headers, `>= ${fmt(target)}`] : headers, rows, [
    `${fmt(r.connections.ready)} / ${fmt(r.connections.wanted)} clients subscribed in ${r.connections.seconds} s; ${seconds} s per step` +
      (lost.length ? `; clients lost: ${lost.join(', ')}` : '; no client lost') +
      (Object.keys(r.clientErrors).length ? `; client errors ${JSON.stringify(r.clientErrors)}` : ''),
  ]);
}

/** The steps of a run for the JSON summary. */
export const stepSummary = (r: FanoutResult | null | undefined, target?: number) =>
  r?.steps.map((st) => ({
    rates: st.rates,
    deliveries_per_s: st.deliveriesPerSecond,
    per_server_cpu_s: st.deliveriesPerServerCpuSecond,
    p99_ms: st.latencyMs.p99,
    kept_up: keptUp(st),
    ...(target && { target_met: st.deliveriesPerServerCpuSecond >= target }),
  }));

export interface StepSpread {
  rates: number[];
  runs: number;
  /** Deliveries per server CPU-second: median and range over the runs. */
  perCpuSecond: { median: number; min: number; max: number };
  deliveriesPerSecond: number;
  p99Ms: number;
  /** Runs in which the server kept up with this step. */
  keptUp: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

/** Step k of every run, summarised: on a shared VM one run is one sample, not a figure. */
export function spreadOf(runs: FanoutResult[]): StepSpread[] {
  const first = runs[0];
  if (!first) return [];
  return first.steps.map((st, k) => {
    const steps = runs.map((r) => r.steps[k]).filter((x): x is StepResult => x !== undefined);
    const perCpu = steps.map((x) => x.deliveriesPerServerCpuSecond);
    return {
      rates: st.rates,
      runs: steps.length,
      perCpuSecond: { median: Math.round(median(perCpu)), min: Math.min(...perCpu), max: Math.max(...perCpu) },
      deliveriesPerSecond: Math.round(median(steps.map((x) => x.deliveriesPerSecond))),
      p99Ms: median(steps.map((x) => x.latencyMs.p99)),
      keptUp: steps.filter(keptUp).length,
    };
  });
}
