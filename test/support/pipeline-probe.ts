import type { StoredEvent } from '../../src/events/index.js';
import { silentObserver, type PipelineObserver, type RetryPolicy, type Subscriber } from '../../src/pipeline/index.js';
import type { Database, Sql } from '../../src/store/index.js';

/**
 * An in-process probe for the pipeline contract suites: a Subscriber that records each
 * delivery into `probe_deliveries` inside the handler's transaction (so a rolled-back
 * attempt leaves no row, and a duplicate delivery shows as two rows), and that can be told
 * to fail an event a number of times, for ever (poison), or to hold inside the handler.
 */
const DDL = `CREATE TABLE IF NOT EXISTS probe_deliveries (
  seq            bigserial PRIMARY KEY,
  subscription   text NOT NULL,
  tag            text NOT NULL,
  event_id       uuid NOT NULL,
  name           text NOT NULL,
  stream         text NOT NULL,
  stream_version integer NOT NULL,
  position       bigint NOT NULL,
  transaction_id text NOT NULL
)`;

export async function createProbeTable(db: Database): Promise<void> {
  await db.exec(DDL);
}

export interface Delivery {
  seq: number;
  tag: string;
  event_id: string;
  name: string;
  stream: string;
  stream_version: number;
  position: number;
  transaction_id: string;
}

/** Committed deliveries to `subscription`, in the order they were handled. */
export async function deliveries(db: Sql, subscription: string): Promise<Delivery[]> {
  return db.query<Delivery>(
    `SELECT seq, tag, event_id::text AS event_id, name, stream, stream_version, position, transaction_id
     FROM probe_deliveries WHERE subscription = $1 ORDER BY seq`,
    [subscription],
  );
}

export interface Hold {
  /** Resolves once the handler is inside its transaction for the held event. */
  entered: Promise<void>;
  release(): void;
}

export class ProbeSubscriber implements Subscriber {
  /** Every handler call (including ones that failed or rolled back), with when it started. */
  readonly attempts: { eventId: string; at: number }[] = [];
  private readonly failures = new Map<string, number>();
  private readonly holds = new Map<string, { enter: () => void; released: Promise<void> }>();

  constructor(
    readonly name: string,
    readonly options: { tag?: string; eventNames?: readonly string[]; retry?: Partial<RetryPolicy> } = {},
  ) {}

  get eventNames() {
    return this.options.eventNames;
  }

  get retry() {
    return this.options.retry;
  }

  /** The next `times` attempts at `eventId` throw. */
  failTimes(eventId: string, times: number): void {
    this.failures.set(eventId, times);
  }

  poison(eventId: string): void {
    this.failures.set(eventId, Number.POSITIVE_INFINITY);
  }

  heal(eventId: string): void {
    this.failures.delete(eventId);
  }

  /** The handler waits inside its transaction at `eventId` until released. */
  hold(eventId: string): Hold {
    let enter!: () => void;
    let release!: () => void;
    const entered = new Promise<void>((r) => (enter = r));
    const released = new Promise<void>((r) => (release = r));
    this.holds.set(eventId, { enter, released });
    return { entered, release };
  }

  attemptsAt(eventId: string): number[] {
    return this.attempts.filter((a) => a.eventId === eventId).map((a) => a.at);
  }

  async handle(event: StoredEvent, tx: Sql): Promise<void> {
    this.attempts.push({ eventId: event.id, at: Date.now() });
    const hold = this.holds.get(event.id);
    if (hold) {
      this.holds.delete(event.id);
      hold.enter();
      await hold.released;
    }
    const left = this.failures.get(event.id) ?? 0;
    if (left > 0) {
      this.failures.set(event.id, left - 1);
      throw new Error(`probe refuses ${event.name} ${event.id}`);
    }
    await tx.query(
      `INSERT INTO probe_deliveries (subscription, tag, event_id, name, stream, stream_version, position, transaction_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [this.name, this.options.tag ?? '', event.id, event.name, event.stream, event.stream_version, event.position, event.transaction_id],
    );
  }
}

/** A PipelineObserver that keeps what it was told, for assertions. */
export function recordingObserver() {
  const calls = {
    failed: [] as { subscription: string; attempt: number }[],
    parked: [] as string[],
    acquired: [] as string[],
    errors: [] as unknown[],
  };
  const observer: PipelineObserver = {
    ...silentObserver,
    failed: (subscription, _name, _error, attempt) => calls.failed.push({ subscription, attempt }),
    parked: (subscription) => calls.parked.push(subscription),
    leaseAcquired: (subscription) => calls.acquired.push(subscription),
    error: (_subscription, error) => calls.errors.push(error),
  };
  return { observer, calls };
}
