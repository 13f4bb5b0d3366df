import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { OrderStatusUpdated, START, validateEventPayload } from '../../src/events/index.js';
import { EventLog, type Database } from '../../src/store/index.js';
import { describeEachAdapter } from '../support/databases.js';
import { T0, settleLog, unique } from '../support/store-fixtures.js';

/**
 * Old events stay in the log as written; readers get them upcast to the current version of
 * their type (src/events/upcasters.ts). OrderStatusUpdated v1 is the seed's shape (seed 002
 * §12): no order version, reason or override flag.
 */
await describeEachAdapter('upcasting stored events', ({ db: getDb }) => {
  let db: Database;
  const log = new EventLog('storeflow-upcasting', () => T0);

  beforeAll(() => {
    db = getDb();
  });

  /** Writes an event row by hand, as an older release would have, bypassing the catalogue. */
  async function insertRaw(e: { name: string; version: number; stream: string; streamVersion: number; storeId: number; payload: object }) {
    const id = randomUUID();
    await db.query(
      `INSERT INTO events (id, name, version, stream, stream_version, occurred_at, source, merchant_id, store_id, metadata, payload)
       VALUES ($1, $2, $3, $4, $5, $6, 'storeflow-v0', 1, $7, $8, $9)`,
      [
        id, e.name, e.version, e.stream, e.streamVersion, T0, e.storeId,
        JSON.stringify({ merchant_id: 1, store_id: e.storeId, actor: { type: 'system', id: null }, correlation_id: 'corr-v1', causation_id: null, request_id: null }),
        JSON.stringify(e.payload),
      ],
    );
    await settleLog(db);
    return id;
  }

  const v1Payload = (orderId: number, storeId: number) => ({
    order_id: orderId,
    public_id: 'pub_0123456789abcdefghijkl',
    old_status: 'accepted',
    new_status: 'in_progress',
    timestamp: T0.toISOString(),
    fulfilment_type: 'pickup',
    store_id: storeId,
  });

  it('reads an OrderStatusUpdated v1 row as v2: order version = stream version, no reason, not an override', async () => {
    const [orderId, storeId] = [unique(), unique()];
    const stream = `order-${orderId}`;
    const id = await insertRaw({ name: 'OrderStatusUpdated', version: 1, stream, streamVersion: 3, storeId, payload: v1Payload(orderId, storeId) });

    const [event, ...rest] = await log.readAfter(db, START, { stream });

    expect(rest).toEqual([]);
    expect(event).toMatchObject({ id, name: 'OrderStatusUpdated', version: OrderStatusUpdated.version, stream, stream_version: 3 });
    expect(OrderStatusUpdated.version).toBe(2);
    expect(event!.payload).toEqual({ ...v1Payload(orderId, storeId), version: 3, reason: null, override: false });
    expect(() => validateEventPayload('OrderStatusUpdated', 2, event!.payload)).not.toThrow();
  });

  it('upcasts on every read path (by id and by stream) and never rewrites the stored row', async () => {
    const [orderId, storeId] = [unique(), unique()];
    const stream = `order-${orderId}`;
    const id = await insertRaw({ name: 'OrderStatusUpdated', version: 1, stream, streamVersion: 2, storeId, payload: v1Payload(orderId, storeId) });
    const upcast = { ...v1Payload(orderId, storeId), version: 2, reason: null, override: false };

    expect(await log.readById(db, id)).toMatchObject({ version: 2, payload: upcast });
    expect((await log.readStream(db, stream)).map((e) => [e.version, e.payload])).toEqual([[2, upcast]]);

    const [row] = await db.query<{ version: number; payload: object }>('SELECT version, payload FROM events WHERE id = $1', [id]);
    expect(row).toEqual({ version: 1, payload: v1Payload(orderId, storeId) });
  });

  it('returns a row already at the current version unchanged', async () => {
    const [orderId, storeId] = [unique(), unique()];
    const stream = `order-${orderId}`;
    const payload = { ...v1Payload(orderId, storeId), new_status: 'cancelled', version: 4, reason: 'customer called', override: true };
    await insertRaw({ name: 'OrderStatusUpdated', version: 2, stream, streamVersion: 4, storeId, payload });

    const [event] = await log.readAfter(db, START, { stream });

    expect(event).toMatchObject({ version: 2, stream_version: 4, payload });
  });
});
