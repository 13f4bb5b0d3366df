import { randomUUID } from 'node:crypto';
import {
  formatCheckpoint,
  upcast,
  validateEventPayload,
  type Checkpoint,
  type NewEvent,
  type StoredEvent,
  type EventMetadata,
} from '../events/index.js';
import type { Row, Sql } from './db.js';

export interface ReadFilter {
  storeId?: number;
  merchantId?: number;
  stream?: string;
  names?: readonly string[];
  correlationId?: string;
  /** occurred_at >= from */
  from?: Date;
  /** occurred_at < until */
  until?: Date;
}

export interface ReadOptions extends ReadFilter {
  limit?: number;
}

export const MAX_READ_LIMIT = 1000;

/**
 * The event log port over the `events` table.
 *
 * Contract:
 * - `append` runs inside the caller's transaction, so events commit with the state change
 *   that caused them or not at all. (stream, stream_version) is unique: a second writer of
 *   the same version fails and its transaction rolls back.
 * - `readAfter` is gap-safe: it returns only events whose writing transaction is older
 *   than every transaction still in flight, ordered by (transaction id, position). A reader
 *   that resumes from the last checkpoint it saw never skips an event that committed late.
 */
export class EventLog {
  private readonly commitListeners = new Set<() => void>();
  /** Counts appends as they are written (a transaction that later rolls back was counted too). */
  onAppend: (name: string) => void = () => {};

  constructor(
    private readonly source: string,
    private readonly now: () => Date,
  ) {}

  /** Called by writers after a transaction that appended events has committed. */
  committed(): void {
    for (const listener of this.commitListeners) listener();
  }

  onCommitted(listener: () => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  async append(tx: Sql, events: readonly NewEvent[]): Promise<StoredEvent[]> {
    const stored: StoredEvent[] = [];
    for (const e of events) {
      validateEventPayload(e.name, e.version, e.payload);
      const [row] = await tx.query<EventRow>(
        `INSERT INTO events (id, name, version, stream, stream_version, occurred_at, source,
                             merchant_id, store_id, metadata, payload)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         RETURNING ${COLUMNS}`,
        [
          randomUUID(),
          e.name,
          e.version,
          e.stream,
          e.stream_version,
          this.now(),
          this.source,
          e.metadata.merchant_id,
          e.metadata.store_id,
          JSON.stringify(e.metadata),
          JSON.stringify(e.payload),
        ],
      );
      if (row) stored.push(toStoredEvent(row));
      this.onAppend(e.name);
    }
    return stored;
  }

  async readAfter(sql: Sql, after: Checkpoint, options: ReadOptions = {}): Promise<StoredEvent[]> {
    const params: unknown[] = [after.transactionId.toString(), after.position];
    const where = [
      '(transaction_id, position) > ($1::xid8, $2::bigint)',
      'transaction_id < pg_snapshot_xmin(pg_current_snapshot())',
    ];
    if (options.storeId !== undefined) {
      params.push(options.storeId);
      where.push(`store_id = $${params.length}`);
    }
    if (options.stream !== undefined) {
      params.push(options.stream);
      where.push(`stream = $${params.length}`);
    }
    if (options.names !== undefined) {
      params.push(options.names);
      where.push(`name = ANY($${params.length}::text[])`);
    }
    if (options.merchantId !== undefined) {
      params.push(options.merchantId);
      where.push(`merchant_id = $${params.length}`);
    }
    if (options.correlationId !== undefined) {
      params.push(options.correlationId);
      where.push(`metadata->>'correlation_id' = $${params.length}`);
    }
    if (options.from !== undefined) {
      params.push(options.from);
      where.push(`occurred_at >= $${params.length}`);
    }
    if (options.until !== undefined) {
      params.push(options.until);
      where.push(`occurred_at < $${params.length}`);
    }
    params.push(Math.min(Math.max(options.limit ?? 100, 1), MAX_READ_LIMIT));
    const rows = await sql.query<EventRow>(
      `SELECT ${COLUMNS} FROM events WHERE ${where.join(' AND ')}
       ORDER BY transaction_id, position LIMIT $${params.length}`,
      params,
    );
    return rows.map(toStoredEvent);
  }

  async readById(sql: Sql, id: string): Promise<StoredEvent | null> {
    const [row] = await sql.query<EventRow>(`SELECT ${COLUMNS} FROM events WHERE id = $1`, [id]);
    return row ? toStoredEvent(row) : null;
  }

  /** All events of one stream in stream order (no gap-safety needed: one stream, one writer at a time). */
  async readStream(sql: Sql, stream: string): Promise<StoredEvent[]> {
    const rows = await sql.query<EventRow>(
      `SELECT ${COLUMNS} FROM events WHERE stream = $1 ORDER BY stream_version`,
      [stream],
    );
    return rows.map(toStoredEvent);
  }
}

const COLUMNS = `id, name, version, stream, stream_version, occurred_at, source, metadata, payload,
  position, transaction_id::text AS transaction_id`;

interface EventRow extends Row {
  id: string;
  name: string;
  version: number;
  stream: string;
  stream_version: number;
  occurred_at: Date;
  source: string;
  metadata: EventMetadata;
  payload: unknown;
  position: number;
  transaction_id: string;
}

/** Rows come back upcast to the current version of their type. */
function toStoredEvent(r: EventRow): StoredEvent {
  const { version, payload } = upcast(r.name, r.version, r.payload, { stream_version: r.stream_version });
  return {
    id: r.id,
    name: r.name,
    version,
    stream: r.stream,
    stream_version: r.stream_version,
    timestamp: new Date(r.occurred_at).toISOString(),
    source: r.source,
    metadata: r.metadata,
    payload,
    position: Number(r.position),
    transaction_id: r.transaction_id,
    checkpoint: formatCheckpoint({ transactionId: BigInt(r.transaction_id), position: Number(r.position) }),
  };
}
