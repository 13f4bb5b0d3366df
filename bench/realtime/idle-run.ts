import { rssBytes, sleep, startLoad, startServer, type ServerKind } from './children.js';
import type { ChannelPlan } from './load-clients.js';
import { fmt, printTable, round, verdict, type Row } from './report.js';

/**
 * Memory of idle, subscribed connections: the server's RSS (and V8 heap) after a GC, before
 * any client connected and again after `connections` clients subscribed and sat idle for
 * `settleSeconds`. The difference per client is what one more customer costs the server.
 */
export interface IdleSpec {
  server: ServerKind;
  connections: number;
  plan: ChannelPlan;
  settleSeconds: number;
  firstAddress: number;
  perAddress: number;
}

export interface IdleResult {
  server: ServerKind;
  ready: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  rssPerSocketBytes: number;
  heapPerSocketBytes: number;
  /** Off-heap memory V8 knows of (Buffers): per socket. */
  externalPerSocketBytes: number;
}

interface Mem {
  heapUsed: number;
  external: number;
}

export async function runIdle(spec: IdleSpec): Promise<IdleResult> {
  const server = await startServer(spec.server, { nodeArgs: ['--expose-gc'] });
  const load = await startLoad();
  const measure = async () => {
    server.send('mem');
    const mem = await server.reply<Mem>('mem');
    return { rss: rssBytes(server.pid), ...mem };
  };
  try {
    await sleep(1_000);
    const before = await measure();
    const connected = await load.connect({
      port: server.port,
      path: '/app/bench-key?protocol=7&client=js&version=8.6.0&flash=false',
      count: spec.connections,
      plan: spec.plan,
      firstAddress: spec.firstAddress,
      perAddress: spec.perAddress,
      sampleEvery: 0,
      recordReceipts: false,
      concurrency: 256,
      timeoutMs: 120_000,
    });
    if (connected.ready < spec.connections * 0.99) {
      throw new Error(`only ${connected.ready} of ${spec.connections} clients subscribed: ${JSON.stringify(connected.errors)}`);
    }
    await sleep(spec.settleSeconds * 1000);
    const after = await measure();
    const per = (a: number, b: number) => round((a - b) / connected.ready, 0);
    return {
      server: spec.server,
      ready: connected.ready,
      rssBeforeMiB: round(before.rss / 2 ** 20, 1),
      rssAfterMiB: round(after.rss / 2 ** 20, 1),
      rssPerSocketBytes: per(after.rss, before.rss),
      heapPerSocketBytes: per(after.heapUsed, before.heapUsed),
      externalPerSocketBytes: per(after.external, before.external),
    };
  } finally {
    await load.stop();
    await server.stop();
  }
}

/** One table: the server under test against the raw Node server's reference. */
export function printIdle(results: IdleResult[], targetBytes: number): void {
  const rows = (r: IdleResult): Row[] => [
    [`${r.server}: RSS before -> after`, `${r.rssBeforeMiB} -> ${r.rssAfterMiB} MiB`, `${fmt(r.ready)} clients`],
    [`${r.server}: RSS per client`, `${fmt(r.rssPerSocketBytes)} B`, r.server === 'realtime' ? verdict(r.rssPerSocketBytes, { atMost: targetBytes }, ' B') : 'reference'],
    [`${r.server}: V8 heap / external per client`, `${fmt(r.heapPerSocketBytes)} / ${fmt(r.externalPerSocketBytes)} B`],
  ];
  const n = results[0]?.ready ?? 0;
  printTable(`idle memory: ${fmt(n)} clients, each subscribed to its own channel, idle, after a GC`, results.flatMap(rows));
}
