import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { allProcesses, busiest, cpuSeconds, machineSeconds, REPO, sleep, startLoad, type LoadChild } from './children.js';
import type { Receipt } from './load-clients.js';
import { fmt, percentiles, printTable, round, verdict, type Percentiles } from './report.js';
import { broadcasterLag, call, eventLoopDelay, expectStatus, patchServed, startStoreFlow, type StoreFlowUnderTest } from './storeflow-app.js';

/**
 * End to end with the whole app (storeflow-app.ts): `connections` customers, each with a
 * placed order and subscribed to its public customer.<publicId>.order channel, and staff
 * accepting orders at `rate` transitions/s over HTTP (PATCH /api/stores/1/orders/:id/status
 * with a bearer token), open loop. Latency is from just before the PATCH is written to the
 * customer's client reading the frame; the app's own commit-to-broadcaster histogram says
 * how much of it is the event pipeline. Skipped when src/reactions/broadcaster.ts is absent.
 */
export interface E2eSpec {
  connections: number;
  firstAddress: number;
  perAddress: number;
  targetP99Ms: number;
  rate: number;
  /** Seconds driven at `rate` before the measured run, on other orders (not counted). */
  warmupSeconds: number;
  /** Extra node flags for the app (--cpu-prof …). */
  nodeArgs?: readonly string[];
  seconds: number;
}

export type E2eResult =
  | { skipped: string }
  | {
      orders: number;
      clients: number;
      transitions: number;
      transitionsPerSecond: number;
      httpMs: Percentiles;
      sendToReceiptMs: Percentiles;
      /** Receipt minus the PATCH's answer: what the pipeline and the socket add after the command. */
      afterAnswerMs: Percentiles;
      notReceived: number;
      /** p50 send-to-receipt of the transitions sent in each second of the run: growing = backlog. */
      p50BySecond: number[];
      /** p99 send-to-receipt of the transitions sent in each second: where the tail sits. */
      p99BySecond: number[];
      /** p99 of the HTTP PATCH alone, by second: a tail here is the command, not the pipeline. */
      httpP99BySecond: number[];
      /** The app's own time for the PATCH (storeflow_http_request_duration_seconds, bucket bounds). */
      patchServedInApp: { count: number; p50: string; p99: string };
      /** The app's storeflow_commit_to_handler_seconds for the broadcaster (bucket bounds). */
      broadcasterCommitToHandler: { count: number; p50: string; p99: string };
      /** The app's event-loop delay during the run (prom-client's monitorEventLoopDelay). */
      appEventLoopDelayMs: { p50: number; p99: number; max: number };
      httpErrors: Record<string, number>;
      cores: { app: number; postgres: number; bench: number; machine: number };
      /** Cores by process name over the run (node = app, load generator, this bench and anyone else's). */
      busiestProcesses: [string, number][];
      /** Samples in which another database of the cluster held a transaction open (holds the pipeline back). */
      foreignTransactions: { share: number; oldestMs: number };
      targetMet: boolean;
    };

const STORE = '/api/stores/1';
const nowMs = () => performance.timeOrigin + performance.now();

interface Order {
  id: string;
  public_id: string;
  version: number;
}
interface Send {
  client: number;
  status: string;
  at: number;
  httpMs: number;
  ok: boolean;
}

/** Staff bearer token, `count` placed orders, and one subscribed customer per order. */
async function prepare(app: StoreFlowUnderTest, load: LoadChild, spec: E2eSpec) {
  const login = await call(app.base, 'POST', '/api/auth/login', { email: 'staff@demo.storeflow.test', password: 'storeflow-demo' });
  const { csrf_token } = expectStatus(login, 200, 'login');
  const cookie = login.headers['set-cookie']?.[0]?.split(';')[0] ?? '';
  const created = await call(app.base, 'POST', '/api/auth/tokens', { name: 'bench-realtime' }, { cookie, 'x-csrf-token': csrf_token });
  const auth = { authorization: `Bearer ${expectStatus(created, 201, 'token').token as string}` };
  const cart = { fulfilment_type: 'pickup', items: [{ product_id: 1, quantity: 1 }], customer: { name: 'Bench', email: 'bench@example.test' } };
  let left = spec.connections;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (left-- > 0) expectStatus(await call(app.base, 'POST', `${STORE}/checkout`, cart), 201, 'checkout');
    }),
  );
  const orders = await app.query<Order>('SELECT id, public_id, version FROM orders WHERE store_id = 1 ORDER BY id');
  const connected = await load.connect({
    port: app.wsPort,
    path: app.wsPath,
    count: orders.length,
    plan: { kind: 'listed', channels: orders.map((o) => `customer.${o.public_id}.order`) },
    firstAddress: spec.firstAddress,
    perAddress: spec.perAddress,
    sampleEvery: 0,
    recordReceipts: true,
    concurrency: 256,
    timeoutMs: 120_000,
  });
  if (connected.ready < orders.length * 0.99) throw new Error(`only ${connected.ready} of ${orders.length} customers subscribed: ${JSON.stringify(connected.errors)}`);
  return { auth, orders, clients: connected.ready };
}

/**
 * Open loop: transition k is sent at start + k / rate, whatever earlier ones are doing, to
 * orders[first …] (an order is moved once, so warm-up and run use different ones).
 */
async function drive(app: StoreFlowUnderTest, orders: Order[], auth: Record<string, string>, rate: number, seconds: number, first = 0) {
  const sends: Send[] = [];
  const httpErrors: Record<string, number> = {};
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  const total = Math.min(orders.length - first, Math.floor(rate * seconds));
  for (let k = 0; k < total; k++) {
    await sleep(Math.max(0, start + (k * 1000) / rate - performance.now()));
    const order = orders[first + k] as Order;
    const send: Send = { client: first + k, status: 'accepted', at: nowMs(), httpMs: 0, ok: false };
    sends.push(send);
    const body = { status: send.status, version: Number(order.version) };
    inflight.push(
      call(app.base, 'PATCH', `${STORE}/orders/${order.id}/status`, body, auth).then((r) => {
        send.httpMs = nowMs() - send.at;
        send.ok = r.status === 200;
        if (!send.ok) httpErrors[String(r.status)] = (httpErrors[String(r.status)] ?? 0) + 1;
      }),
    );
  }
  await Promise.all(inflight);
  return { sends, httpErrors, seconds: (performance.now() - start) / 1000 };
}

/** Each successful transition against the first frame its customer read after it was sent. */
function match(sends: Send[], receipts: Receipt[]) {
  const byClient = new Map<number, { at: number; text: string }[]>();
  for (const [client, at, text] of receipts) byClient.set(client, [...(byClient.get(client) ?? []), { at, text }]);
  const latencies: number[] = [];
  const afterAnswer: number[] = [];
  const bySecond: number[][] = [];
  const httpBySecond: number[][] = [];
  let notReceived = 0;
  for (const s of sends.filter((x) => x.ok)) {
    const after = (byClient.get(s.client) ?? []).filter((r) => r.at >= s.at);
    const got = after.find((r) => r.text.includes(s.status)) ?? after[0];
    if (!got) {
      notReceived += 1;
      continue;
    }
    latencies.push(got.at - s.at);
    afterAnswer.push(got.at - s.at - s.httpMs);
    const second = Math.floor((s.at - (sends[0]?.at ?? 0)) / 1000);
    (bySecond[second] ??= []).push(got.at - s.at);
    (httpBySecond[second] ??= []).push(s.httpMs);
  }
  return {
    latencies,
    afterAnswerMs: percentiles(afterAnswer),
    notReceived,
    p50BySecond: bySecond.map((l) => percentiles(l).p50),
    p99BySecond: bySecond.map((l) => percentiles(l).p99),
    httpP99BySecond: httpBySecond.map((l) => percentiles(l).p99),
  };
}

/** CPU of the app, its PostgreSQL backends, this benchmark and the machine over a run. */
async function cpuMeter(app: StoreFlowUnderTest, load: LoadChild) {
  const backends = new Map((await app.backendPids()).map((pid) => [pid, cpuSeconds(pid) || 0]));
  const before = { app: cpuSeconds(app.pid), load: cpuSeconds(load.pid), self: process.cpuUsage(), machine: machineSeconds().busy, procs: allProcesses(), at: performance.now() };
  return async () => {
    const seconds = (performance.now() - before.at) / 1000;
    // Backends the pool opened during the run count from zero.
    const postgres = (await app.backendPids()).reduce((sum, pid) => sum + (cpuSeconds(pid) || 0) - (backends.get(pid) ?? 0), 0);
    const self = process.cpuUsage(before.self);
    const cores = (cpu: number) => round(cpu / seconds, 2);
    return {
      cores: {
        app: cores(cpuSeconds(app.pid) - before.app),
        postgres: cores(postgres),
        bench: cores(cpuSeconds(load.pid) - before.load + (self.user + self.system) / 1e6),
        machine: cores(machineSeconds().busy - before.machine),
      },
      busiest: busiest(before.procs, allProcesses(), seconds),
    };
  };
}

export async function runE2e(spec: E2eSpec): Promise<E2eResult> {
  const skip = (why: string): E2eResult => {
    console.log(`\ne2e: skipped — ${why}`);
    return { skipped: why };
  };
  if (!existsSync(join(REPO, 'src/reactions/broadcaster.ts'))) return skip('the app is not wired to the real-time server yet (no src/reactions/broadcaster.ts)');
  const app = await startStoreFlow(spec.nodeArgs);
  if (typeof app === 'string') return skip(app);
  const load = await startLoad();
  try {
    console.log(`\ne2e: StoreFlow up (real-time settings in ${JSON.stringify(app.vars)}); placing ${fmt(spec.connections)} orders...`);
    const { auth, orders, clients } = await prepare(app, load, spec);
    // The checkouts left work behind (OrderCreated for every subscriber, notifications, the
    // emails in the outbox): let it finish, or the transitions would queue behind it.
    const settled = await app.settle();
    console.log(`e2e: ${fmt(clients)} customers subscribed; the app went quiet after ${settled} s; driving ${spec.rate} transitions/s...`);
    // Warm-up at the same rate on orders of its own: pool connections, prepared statements
    // and JIT-compiled code of the command path, as in a server that has been taking orders.
    const warmup = await drive(app, orders, auth, spec.rate, spec.warmupSeconds);
    if (Object.keys(warmup.httpErrors).length) console.log(`e2e: warm-up HTTP errors ${JSON.stringify(warmup.httpErrors)}`);
    await sleep(1_000);
    await load.receipts();
    const metricsBefore = await app.scrape();
    const cpu = await cpuMeter(app, load);
    let driving = true;
    const foreign = app.foreignTransactions(() => driving);
    console.log(`e2e: measuring from ${new Date().toISOString()}`);
    const run = await drive(app, orders, auth, spec.rate, spec.seconds, warmup.sends.length);
    await sleep(2_000); // the last broadcasts
    driving = false;
    const [used, foreignTx, receipts, metricsAfter] = [await cpu(), await foreign, await load.receipts(), await app.scrape()];
    const matched = match(run.sends, receipts);
    const pipeline = broadcasterLag(metricsBefore, metricsAfter);
    const served = patchServed(metricsBefore, metricsAfter);
    const loopDelay = eventLoopDelay(metricsAfter);
    const sendToReceiptMs = percentiles(matched.latencies);
    const result: E2eResult = {
      orders: orders.length,
      clients,
      transitions: run.sends.length,
      transitionsPerSecond: round(run.sends.length / run.seconds, 1),
      httpMs: percentiles(run.sends.filter((s) => s.ok).map((s) => s.httpMs)),
      sendToReceiptMs,
      afterAnswerMs: matched.afterAnswerMs,
      notReceived: matched.notReceived,
      p50BySecond: matched.p50BySecond,
      p99BySecond: matched.p99BySecond,
      httpP99BySecond: matched.httpP99BySecond,
      patchServedInApp: served,
      broadcasterCommitToHandler: pipeline,
      appEventLoopDelayMs: loopDelay,
      httpErrors: run.httpErrors,
      cores: used.cores,
      busiestProcesses: used.busiest,
      foreignTransactions: { share: round(foreignTx.withHolder / Math.max(1, foreignTx.samples), 3), oldestMs: round(foreignTx.oldestMs, 0) },
      targetMet: matched.notReceived === 0 && sendToReceiptMs.p99 <= spec.targetP99Ms,
    };
    const c = used.cores;
    printTable(`end to end: StoreFlow + PostgreSQL, ${fmt(clients)} customers, ${spec.rate} transitions/s for ${round(run.seconds, 1)} s after ${spec.warmupSeconds} s of warm-up`, [
      ['transitions sent', `${fmt(result.transitions)} (${result.transitionsPerSecond}/s)`, Object.keys(run.httpErrors).length ? `HTTP errors ${JSON.stringify(run.httpErrors)}` : undefined],
      ['HTTP PATCH p50 / p99 (ms)', `${result.httpMs.p50} / ${result.httpMs.p99}`],
      ['  served in the app p50 / p99', `${served.p50} / ${served.p99}`, `first byte read to answer written, ${fmt(served.count)} requests`],
      ['send -> receipt p50 / p99 / max (ms)', `${sendToReceiptMs.p50} / ${sendToReceiptMs.p99} / ${sendToReceiptMs.max}`, verdict(sendToReceiptMs.p99, { atMost: spec.targetP99Ms }, ' ms')],
      ['  receipt after the PATCH answered p50 / p99', `${matched.afterAnswerMs.p50} / ${matched.afterAnswerMs.p99}`, 'negative: the frame beat the HTTP answer'],
      ['  commit -> broadcaster p50 / p99', `${pipeline.p50} / ${pipeline.p99}`, `the app's histogram, ${fmt(pipeline.count)} events`],
      ['app event-loop delay p50 / p99 / max (ms)', `${loopDelay.p50} / ${loopDelay.p99} / ${loopDelay.max}`, 'a stall here delays HTTP, pipeline and sockets alike'],
      ['p50 by second of the run (ms)', matched.p50BySecond.map((v) => Math.round(v)).join(' ')],
      ['p99 by second of the run (ms)', matched.p99BySecond.map((v) => Math.round(v)).join(' ')],
      ['  of which the HTTP PATCH, p99 by second', matched.httpP99BySecond.map((v) => Math.round(v)).join(' ')],
      ['not received', fmt(matched.notReceived)],
      ['other databases holding a transaction', `${fmt(100 * result.foreignTransactions.share, 0)} % of samples`, `oldest ${fmt(foreignTx.oldestMs)} ms (they hold the pipeline back)`],
      ['CPU cores: app / postgres / bench / machine', `${c.app} / ${c.postgres} / ${c.bench} / ${c.machine}`, `busiest: ${used.busiest.map(([n, v]) => `${n} ${v}`).join(', ')}`],
    ]);
    return result;
  } finally {
    await load.stop();
    await app.stop();
  }
}
