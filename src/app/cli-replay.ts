import { SingleBar } from 'cli-progress';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { replaySql } from '../pipeline/index.js';
import type { Config } from './config.js';
import { createStoreFlow } from './storeflow.js';

const USAGE = `usage: storeflow replay --subscription NAME [--from ISO-TIME] [--until ISO-TIME] [--names A,B] [--stream STREAM]
       storeflow replay --subscription NAME --reset-to ISO-TIME     (move the checkpoint back instead)

Replays a filtered range of the event log to one subscription, leaving every other one alone,
and shows its progress. The replay runs wherever the subscription's lease is held; this
command also runs the pipeline itself, so it completes even when no server is running.
With the embedded database, stop the server first (PGlite allows one process).`;

const args = z.object({
  subscription: z.string().min(1),
  from: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  names: z.string().optional(),
  stream: z.string().optional(),
  'reset-to': z.iso.datetime({ offset: true }).optional(),
});

export async function replayCommand(config: Config, argv: string[]): Promise<number> {
  let parsed: z.infer<typeof args>;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        subscription: { type: 'string' },
        from: { type: 'string' },
        until: { type: 'string' },
        names: { type: 'string' },
        stream: { type: 'string' },
        'reset-to': { type: 'string' },
      },
    });
    parsed = args.parse(values);
  } catch (e) {
    console.error(`${e instanceof z.ZodError ? z.prettifyError(e) : (e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const flow = await createStoreFlow({ ...config, STOREFLOW_SEED_DEMO: false, roles: new Set(['worker']) }, { logger: false });
  try {
    if (!flow.pipelineAdmin.names().includes(parsed.subscription)) {
      console.error(`no subscription named ${parsed.subscription}; known: ${flow.pipelineAdmin.names().join(', ')}`);
      return 2;
    }
    if (parsed['reset-to']) {
      const to = await flow.pipelineAdmin.reset(parsed.subscription, { time: new Date(parsed['reset-to']) });
      console.log(`${parsed.subscription} now resumes after checkpoint ${to.transactionId}.${to.position}`);
      return 0;
    }
    if (flow.pipelineAdmin.isRebuildOnly(parsed.subscription)) {
      console.error(`${parsed.subscription} counts what it sees, so a range replay would count twice; rebuilding it from the start instead`);
      await flow.pipelineAdmin.rebuild(parsed.subscription);
      await flow.start();
      return await followCatchUp(flow, parsed.subscription);
    }
    const job = await flow.pipelineAdmin.replay({
      subscription: parsed.subscription,
      names: parsed.names?.split(',').map((s) => s.trim()).filter(Boolean),
      stream: parsed.stream,
      from: parsed.from ? new Date(parsed.from) : undefined,
      until: parsed.until ? new Date(parsed.until) : undefined,
    });
    console.log(`replay #${job.id}: ${job.total} events to ${job.subscription}`);
    await flow.start();
    return await follow(flow.db, job.id, job.total);
  } finally {
    await flow.stop();
  }
}

/** For a rebuild: progress is the subscription catching up with the log. */
async function followCatchUp(flow: Awaited<ReturnType<typeof createStoreFlow>>, name: string): Promise<number> {
  const first = (await flow.pipelineAdmin.status()).find((s) => s.name === name);
  const total = Math.max(first?.lag_events ?? 0, 1);
  const bar = new SingleBar({ format: 'rebuild [{bar}] {percentage}% | {value}/{total} events | {eta_formatted} left', etaBuffer: 50 });
  bar.start(total, 0);
  for (;;) {
    const s = (await flow.pipelineAdmin.status()).find((x) => x.name === name);
    const left = s?.lag_events ?? 0;
    bar.update(Math.max(0, total - left));
    if (left === 0) {
      bar.stop();
      console.log(`${name} rebuilt: ${s?.handled ?? 0} events handled in all`);
      return 0;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Polls the job and draws its progress with an estimate of the time left. */
async function follow(db: Parameters<typeof replaySql.get>[0], id: number, total: number): Promise<number> {
  const bar = new SingleBar({
    format: 'replay [{bar}] {percentage}% | {value}/{total} events | {eta_formatted} left | {status}',
    etaBuffer: 50,
    hideCursor: true,
  });
  bar.start(Math.max(total, 1), 0, { status: 'pending' });
  for (;;) {
    const job = await replaySql.get(db, id);
    if (!job) throw new Error(`replay #${id} vanished`);
    bar.update(total === 0 ? 1 : job.done, { status: job.status });
    if (job.status === 'done' || job.status === 'failed' || job.status === 'cancelled') {
      bar.stop();
      if (job.error) console.error(job.error);
      console.log(`replay #${id} ${job.status}: ${job.done} events`);
      return job.status === 'done' ? 0 : 1;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
