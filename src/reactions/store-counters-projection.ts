import type { OrderCreatedData, OrderStatusUpdatedData } from '../domain/index.js';
import type { StoredEvent } from '../events/index.js';
import { BACKGROUND_GATHER_MS, type Subscriber } from '../pipeline/index.js';
import type { Sql } from '../store/index.js';

/**
 * Per-store counters for dashboards: orders per status and orders per hour. Kept by its own
 * subscription, exactly once per event (the counters move in the transaction that moves the
 * checkpoint), and rebuildable from the log at any time.
 */
export const storeCountersProjection: Subscriber = {
  name: 'store-counters',
  eventNames: ['OrderCreated', 'OrderStatusUpdated'],
  gatherMs: BACKGROUND_GATHER_MS,
  // Counting twice would be wrong: replays of a range are refused; rebuild instead.
  idempotent: false,

  async handle(event: StoredEvent, tx: Sql): Promise<void> {
    if (event.name === 'OrderCreated') {
      const p = event.payload as OrderCreatedData;
      await bump(tx, p.store_id, [[p.status, 1]]);
      await tx.query(
        `INSERT INTO store_orders_per_hour (store_id, hour, count) VALUES ($1, date_trunc('hour', $2::timestamptz), 1)
         ON CONFLICT (store_id, hour) DO UPDATE SET count = store_orders_per_hour.count + 1`,
        [p.store_id, p.timestamp],
      );
      return;
    }
    const p = event.payload as OrderStatusUpdatedData;
    await bump(tx, p.store_id, [[p.old_status, -1], [p.new_status, 1]]);
  },

  async reset(tx: Sql): Promise<void> {
    await tx.query('DELETE FROM store_order_counts');
    await tx.query('DELETE FROM store_orders_per_hour');
  },
};

/** Moves a store's count per status by the given amounts (summed per status), in one statement. */
async function bump(tx: Sql, storeId: number, moves: readonly (readonly [status: string, by: number])[]): Promise<void> {
  const by = new Map<string, number>();
  for (const [status, delta] of moves) by.set(status, (by.get(status) ?? 0) + delta);
  const statuses = [...by.keys()];
  await tx.query(
    `INSERT INTO store_order_counts (store_id, status, count)
     SELECT $1, status, delta FROM unnest($2::text[], $3::int[]) AS d(status, delta)
     ON CONFLICT (store_id, status) DO UPDATE SET count = store_order_counts.count + EXCLUDED.count`,
    [storeId, statuses, statuses.map((status) => by.get(status))],
  );
}

/** The projection's figures for one store. */
export async function storeCounters(sql: Sql, storeId: number) {
  const byStatus = await sql.query('SELECT status, count FROM store_order_counts WHERE store_id = $1 AND count <> 0 ORDER BY status', [storeId]);
  const perHour = await sql.query(
    'SELECT hour, count FROM store_orders_per_hour WHERE store_id = $1 ORDER BY hour DESC LIMIT 48',
    [storeId],
  );
  return {
    by_status: Object.fromEntries(byStatus.map((r) => [String(r.status), Number(r.count)])),
    per_hour: perHour.map((r) => ({ hour: new Date(r.hour as string).toISOString(), count: Number(r.count) })),
  };
}
