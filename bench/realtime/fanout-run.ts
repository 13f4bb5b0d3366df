import { cpuSeconds, machineSeconds, sleep, startLoad, startServer, type LoadChild, type ServerChild, type ServerKind } from './children.js';
import type { ChannelPlan, LoadSnapshot } from './load-clients.js';
import type { PublishPlan, PublishReport, PublishStream } from './publisher.js';
import { percentiles, round, type Percentiles } from './report.js';

/**
 * One fan-out run, the same procedure for every server kind: start the server child and the
 * load child, connect and subscribe every client, publish for a warm-up, then for each step
 * publish at the step's rates for `seconds` and wait until every expected delivery arrived
 * (or nothing more arrives for 2 s). CPU is read from /proc around each step's publish +
 * drain, so deliveries per server-CPU-second covers everything the server did for them.
 * A step at a rate the server cannot keep up with shows as publisher lateness (and skipped
 * messages): there, messages due together leave together, which is cheaper per delivery.
 */
export interface FanoutSpec {
  server: ServerKind;
  connections: number;
  plan: ChannelPlan;
  /** Each stream with the number of clients on each of its channels (for the expected count). */
  streams: (PublishStream & { subscribersPerChannel: number })[];
  /** Rate multipliers applied to every stream's rate, one measured step each. */
  steps: number[];
  event: string;
  bytes: number;
  warmupSeconds: number;
  seconds: number;
  sampleEvery: number;
  firstAddress: number;
  perAddress: number;
  nodeArgs: string[];
  rawBinary?: string;
  /**
   * Server processes (default 1). With more, each gets `serverArgs` (e.g. the Redis fan-out
   * they share), clients are spread evenly over them, node 0 publishes, and server CPU is the
   * sum over every node.
   */
  nodes?: number;
  serverArgs?: string[];
  /** Further processes whose CPU counts as the medium's (e.g. redis-server), reported apart. */
  mediumPids?: number[];
}

export interface StepResult {
  /** Messages per second of each stream. */
  rates: number[];
  published: number;
  skipped: number;
  expected: number;
  delivered: number;
  /** Publish start to the last delivery (or the drain timeout). */
  wallSeconds: number;
  deliveriesPerSecond: number;
  serverCpuSeconds: number;
  serverCores: number;
  /** CPU of `mediumPids` (the fan-out medium, e.g. redis-server), in cores. */
  mediumCores: number;
  deliveriesPerServerCpuSecond: number;
  loadCores: number;
  /** Softirq time of the whole machine, in cores: mostly the loopback TCP input of this run's traffic. */
  softirqCores: number;
  /** Busy cores of the rest of the machine (not server, load generator, softirq): other people's work. */
  otherCores: number;
  latencyMs: Percentiles;
  publisherLateMs: PublishReport['lateMs'];
  lostClients: Record<string, number>;
}

export interface FanoutResult {
  server: ServerKind;
  connections: { wanted: number; ready: number; failed: number; seconds: number; errors: Record<string, number> };
  steps: StepResult[];
  clientErrors: Record<string, number>;
  serverCounters: unknown;
}

type Streams = FanoutSpec['streams'];
const scaled = (streams: Streams, factor: number): Streams => streams.map((s) => ({ ...s, rate: s.rate * factor }));

function publishLine(spec: FanoutSpec, streams: Streams, seconds: number): string {
  if (spec.server === 'raw-c') {
    const [s] = streams;
    if (!s || streams.length !== 1 || s.count !== 1) throw new Error('the C baseline publishes one stream to one channel');
    return `publish ${s.rate} ${seconds} ${spec.bytes} ${s.template} ${spec.event}`;
  }
  const plan: PublishPlan = {
    seconds,
    bytes: spec.bytes,
    event: spec.event,
    streams: streams.map(({ template, count, rate }) => ({ template, count, rate })),
  };
  return `publish ${JSON.stringify(plan)}`;
}

/** Polls until `expected` more deliveries than `from` arrived, or none for `quietMs`. */
async function drain(snapshot: () => Promise<LoadSnapshot>, from: number, expected: number, quietMs: number) {
  let last = await snapshot();
  let lastChange = performance.now();
  while (last.delivered - from < expected && performance.now() - lastChange < quietMs) {
    await sleep(50);
    const now = await snapshot();
    if (now.delivered !== last.delivered) lastChange = performance.now();
    last = now;
  }
  return { snapshot: last, at: last.delivered - from >= expected ? performance.now() : lastChange };
}

const cpuOf = (pids: readonly number[]) => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);

async function measureStep(
  spec: FanoutSpec,
  servers: ServerChild[],
  load: LoadChild,
  streams: Streams,
): Promise<StepResult> {
  const [publisher] = servers as [ServerChild];
  const serverPids = servers.map((s) => s.pid);
  const mediumPids = spec.mediumPids ?? [];
  const start = await load.snapshot();
  const cpu0 = { server: cpuOf(serverPids), medium: cpuOf(mediumPids), load: cpuSeconds(load.pid), machine: machineSeconds(), self: process.cpuUsage() };
  const t0 = performance.now();
  publisher.send(publishLine(spec, streams, spec.seconds));
  const report = await publisher.reply<PublishReport>('done', (spec.seconds + 120) * 1000);
  const published = report.published.reduce((a, b) => a + b, 0);
  const expected = report.published.reduce((sum, n, i) => sum + n * (streams[i]?.subscribersPerChannel ?? 0), 0);
  const drained = await drain(() => load.snapshot(), start.delivered, expected, 2_000);
  const cpu1 = { server: cpuOf(serverPids), medium: cpuOf(mediumPids), load: cpuSeconds(load.pid), machine: machineSeconds(), self: process.cpuUsage(cpu0.self) };
  const wall = (drained.at - t0) / 1000;
  const cpuWall = (performance.now() - t0) / 1000;
  const delivered = drained.snapshot.delivered - start.delivered;
  const serverCpu = cpu1.server - cpu0.server;
  const mediumCpu = cpu1.medium - cpu0.medium;
  const loadCpu = cpu1.load - cpu0.load;
  const selfCpu = (cpu1.self.user + cpu1.self.system) / 1e6;
  const softirq = cpu1.machine.softirq - cpu0.machine.softirq;
  const lost = Object.entries(drained.snapshot.lost).map(([k, v]) => [k, v - (start.lost[k] ?? 0)] as const);
  return {
    rates: streams.map((s) => s.rate),
    published,
    skipped: report.skipped,
    expected,
    delivered,
    wallSeconds: round(wall, 3),
    deliveriesPerSecond: round(delivered / wall, 0),
    serverCpuSeconds: round(serverCpu, 2),
    serverCores: round(serverCpu / cpuWall, 2),
    mediumCores: round(mediumCpu / cpuWall, 2),
    deliveriesPerServerCpuSecond: round(delivered / serverCpu, 0),
    loadCores: round(loadCpu / cpuWall, 2),
    softirqCores: round(softirq / cpuWall, 2),
    otherCores: round(Math.max(0, cpu1.machine.busy - cpu0.machine.busy - serverCpu - mediumCpu - loadCpu - selfCpu - softirq) / cpuWall, 2),
    latencyMs: percentiles(await load.latencies()),
    publisherLateMs: { mean: round(report.lateMs.mean, 1), max: round(report.lateMs.max, 1) },
    lostClients: Object.fromEntries(lost.filter(([, v]) => v > 0)),
  };
}

export async function runFanout(spec: FanoutSpec): Promise<FanoutResult> {
  const servers: ServerChild[] = [];
  let load: LoadChild | undefined;
  try {
    for (let n = 0; n < (spec.nodes ?? 1); n++) {
      servers.push(await startServer(spec.server, { nodeArgs: spec.nodeArgs, serverArgs: spec.serverArgs ?? [], ...(spec.rawBinary && { rawBinary: spec.rawBinary }) }));
    }
    const [publisher] = servers as [ServerChild];
    load = await startLoad();
    const connected = await connectSpread(spec, servers, load);
    if (connected.ready < spec.connections * 0.99) {
      throw new Error(`only ${connected.ready} of ${spec.connections} clients subscribed: ${JSON.stringify(connected.errors)}`);
    }
    await sleep(1_000);
    if (spec.warmupSeconds > 0) {
      const streams = scaled(spec.streams, Math.min(...spec.steps));
      const before = (await load.snapshot()).delivered;
      publisher.send(publishLine(spec, streams, spec.warmupSeconds));
      const report = await publisher.reply<PublishReport>('done');
      const expected = report.published.reduce((sum, n, i) => sum + n * (streams[i]?.subscribersPerChannel ?? 0), 0);
      await drain(() => load!.snapshot(), before, expected, 2_000);
      await load.latencies();
    }
    const steps: StepResult[] = [];
    for (const factor of spec.steps) {
      await sleep(500);
      steps.push(await measureStep(spec, servers, load, scaled(spec.streams, factor)));
    }
    let serverCounters: unknown = null;
    if (spec.server !== 'raw-c') {
      publisher.send('counters');
      serverCounters = await publisher.reply('counters');
    }
    return {
      server: spec.server,
      connections: { wanted: spec.connections, ready: connected.ready, failed: connected.failed, seconds: round(connected.seconds, 2), errors: connected.errors },
      steps,
      clientErrors: (await load.snapshot()).errors,
      serverCounters,
    };
  } finally {
    await load?.stop();
    await Promise.all(servers.map((s) => s.stop()));
  }
}

/** Every node gets an equal share of the clients, from source addresses of its own. */
async function connectSpread(spec: FanoutSpec, servers: ServerChild[], load: LoadChild) {
  const total = { ready: 0, failed: 0, seconds: 0, errors: {} as Record<string, number> };
  let firstAddress = spec.firstAddress;
  for (const [n, server] of servers.entries()) {
    const count = Math.floor(spec.connections / servers.length) + (n < spec.connections % servers.length ? 1 : 0);
    const result = await load.connect({
      port: server.port,
      path: '/app/bench-key?protocol=7&client=js&version=8.6.0&flash=false',
      count,
      plan: spec.plan,
      firstAddress,
      perAddress: spec.perAddress,
      sampleEvery: spec.sampleEvery,
      recordReceipts: false,
      concurrency: 256,
      timeoutMs: 120_000,
    });
    firstAddress += Math.ceil(count / spec.perAddress);
    total.ready += result.ready;
    total.failed += result.failed;
    total.seconds += result.seconds;
    for (const [k, v] of Object.entries(result.errors)) total.errors[k] = (total.errors[k] ?? 0) + v;
  }
  return total;
}
