import { START, formatCheckpoint, type Checkpoint } from '../events/index.js';
import type { Clock } from '../shared/index.js';
import type { Database } from '../store/index.js';
import { deadLetterSql } from './dead-letters.js';
import { checkpointBefore, replaySql, type ReplayRequest } from './replay-jobs.js';
import type { Subscriber } from './subscriber.js';
import { checkpointOf, subscriptionSql } from './subscription-store.js';

export class UnknownSubscription extends Error {
  constructor(readonly subscription: string) {
    super(`no subscription named ${subscription}`);
  }
}

export class NotReplayable extends Error {
  constructor(readonly subscription: string) {
    super(`${subscription} is not idempotent: rebuild it instead of replaying a range`);
  }
}

/**
 * What operators can see and do with the pipeline. Requests that must run where the
 * subscription runs (replays, dead-letter retries) are written to the database and carried
 * out by the lease holder, so this works from any node.
 */
export class PipelineAdmin {
  constructor(
    private readonly db: Database,
    private readonly subscribers: readonly Subscriber[],
    private readonly clock: Clock,
  ) {}

  names(): string[] {
    return this.subscribers.map((s) => s.name);
  }

  private subscriber(name: string): Subscriber {
    const s = this.subscribers.find((x) => x.name === name);
    if (!s) throw new UnknownSubscription(name);
    return s;
  }

  /** Checkpoint, lag (events and seconds behind the log), retry state and parked count per subscription. */
  async status() {
    for (const s of this.subscribers) await subscriptionSql.ensure(this.db, s.name);
    const rows = await subscriptionSql.all(this.db);
    const parked = await deadLetterSql.countParked(this.db);
    const now = this.clock.now().getTime();
    return Promise.all(
      rows
        .filter((r) => this.subscribers.some((s) => s.name === r.name))
        .map(async (r) => {
          const cp = checkpointOf(r);
          const [lag] = await this.db.query(
            `SELECT count(*) AS n, min(occurred_at) AS oldest FROM events
             WHERE (transaction_id, position) > ($1::xid8, $2::bigint)`,
            [cp.transactionId.toString(), cp.position],
          );
          const oldest = lag?.oldest ? new Date(lag.oldest as string).getTime() : null;
          const alive = r.heartbeat_at !== null && now - r.heartbeat_at.getTime() < 30_000 && r.holder !== null;
          return {
            name: r.name,
            checkpoint: formatCheckpoint(cp),
            state: r.paused ? 'paused' : r.retry_event_id ? 'retrying' : alive ? 'running' : 'stopped',
            holder: alive ? r.holder : null,
            lag_events: Number(lag?.n ?? 0),
            lag_seconds: oldest === null ? 0 : Math.max(0, (now - oldest) / 1000),
            handled: r.handled_count,
            failures: r.failure_count,
            retry: r.retry_event_id
              ? { event_id: r.retry_event_id, attempts: r.retry_attempts, error: r.retry_error, next_at: r.next_retry_at?.toISOString() ?? null }
              : null,
            parked: parked.get(r.name) ?? 0,
            last_handled_at: r.last_handled_at?.toISOString() ?? null,
            rebuildable: typeof this.subscriber(r.name).reset === 'function',
            replayable: this.subscriber(r.name).idempotent !== false,
          };
        }),
    );
  }

  /** Moves a subscription's checkpoint (back or forward); its runner picks up from there. */
  async reset(name: string, to: { checkpoint: Checkpoint } | { time: Date }): Promise<Checkpoint> {
    this.subscriber(name);
    await subscriptionSql.ensure(this.db, name);
    const target = 'checkpoint' in to ? to.checkpoint : await checkpointBefore(this.db, to.time);
    await subscriptionSql.reset(this.db, name, target);
    return target;
  }

  isRebuildOnly(name: string): boolean {
    const s = this.subscriber(name);
    return s.idempotent === false && typeof s.reset === 'function';
  }

  /** Empties a projection and replays the whole log into it. */
  async rebuild(name: string): Promise<void> {
    const s = this.subscriber(name);
    if (!s.reset) throw new Error(`subscription ${name} cannot be rebuilt`);
    const reset = s.reset.bind(s);
    await subscriptionSql.ensure(this.db, name);
    await this.db.transaction(async (tx) => {
      await reset(tx);
      await subscriptionSql.reset(tx, name, START);
    });
  }

  async setPaused(name: string, paused: boolean): Promise<void> {
    this.subscriber(name);
    await subscriptionSql.ensure(this.db, name);
    await subscriptionSql.setPaused(this.db, name, paused);
  }

  async replay(request: ReplayRequest) {
    if (this.subscriber(request.subscription).idempotent === false) throw new NotReplayable(request.subscription);
    return replaySql.create(this.db, request, this.clock.now());
  }

  /** Events per minute by type over the last `minutes` minutes (for the monitor's chart). */
  async throughput(minutes: number, merchantId?: number) {
    const since = new Date(this.clock.now().getTime() - minutes * 60_000);
    const rows = await this.db.query(
      `SELECT date_trunc('minute', occurred_at) AS minute, name, count(*) AS n FROM events
       WHERE occurred_at >= $1 AND ($2::bigint IS NULL OR merchant_id = $2)
       GROUP BY 1, 2 ORDER BY 1, 2`,
      [since, merchantId ?? null],
    );
    return rows.map((r) => ({ minute: new Date(r.minute as string).toISOString(), name: String(r.name), count: Number(r.n) }));
  }
}
