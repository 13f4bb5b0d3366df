import { parseCheckpoint } from '../events/index.js';
import type { EventLog, Lease } from '../store/index.js';
import { deadLetterSql } from './dead-letters.js';
import type { PipelineObserver } from './pipeline-observer.js';
import { jobCursor, jobFilter, replaySql } from './replay-jobs.js';
import { accepts, handlerTransaction, type Subscriber } from './subscriber.js';

/**
 * Operator requests a subscription's lease holder carries out between live batches, so they
 * never run beside the live runner: dead-letter retries and range replays.
 */
export interface OperatorContext {
  lease: Lease;
  subscriber: Subscriber;
  log: EventLog;
  observer: PipelineObserver;
  batchSize: number;
}

/** Dead letters an operator asked to retry: one attempt each, back to parked if it fails. */
export async function retryDeadLetters(c: OperatorContext): Promise<boolean> {
  const name = c.subscriber.name;
  const letters = await deadLetterSql.retryRequested(c.lease, name, c.batchSize);
  for (const letter of letters) {
    const event = await c.log.readById(c.lease, letter.event_id);
    try {
      if (!event) throw new Error(`event ${letter.event_id} is no longer in the log`);
      await handlerTransaction(c.lease, c.log, c.subscriber, async (tx) => {
        await c.subscriber.handle(event, tx);
        await deadLetterSql.markRetried(tx, letter.id);
      });
      c.observer.handled(name, letter.event_name, 0);
    } catch (e) {
      c.observer.failed(name, letter.event_name, e, letter.attempts + 1);
      await deadLetterSql.markRetryFailed(c.lease, letter.id, describe(e));
    }
  }
  return letters.length > 0;
}

/** One batch of the oldest open replay job; the job fails at the first event the handler refuses. */
export async function replayBatch(c: OperatorContext): Promise<boolean> {
  const job = await replaySql.nextOpen(c.lease, c.subscriber.name);
  if (!job) return false;
  const events = await c.log.readAfter(c.lease, jobCursor(job), { ...jobFilter(job), limit: c.batchSize });
  if (events.length === 0) {
    // Events of the range behind an open older transaction: wait for them, live work goes on.
    if (await replaySql.hasUnreadEvents(c.lease, job)) return false;
    await replaySql.finish(c.lease, job.id, 'done');
    return true;
  }
  for (const event of events) {
    const at = parseCheckpoint(event.checkpoint);
    try {
      await handlerTransaction(c.lease, c.log, c.subscriber, async (tx) => {
        if (accepts(c.subscriber, event.name)) await c.subscriber.handle(event, tx);
        await replaySql.progress(tx, job.id, at, 1);
      });
    } catch (e) {
      await replaySql.finish(c.lease, job.id, 'failed', `event ${event.id} (${event.name}): ${describe(e)}`);
      c.observer.error(c.subscriber.name, e);
      return true;
    }
  }
  return true;
}

export function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
