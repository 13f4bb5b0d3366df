import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { START, type NewEvent } from '../../src/events/index.js';
import { EventLog, type Database } from '../../src/store/index.js';
import { describeEachAdapter } from '../support/databases.js';
import { startPipeline, waitForCheckpoint } from '../support/pipeline-harness.js';
import { ProbeSubscriber, createProbeTable, deliveries } from '../support/pipeline-probe.js';
import { T0, productEvent, unique } from '../support/store-fixtures.js';

/**
 * Transaction ids are compared as numbers (xid8), never as their text: 99 comes before
 * 100. Rows here carry transaction ids written by hand on either side of a change in the
 * number of digits (99, 100), as a long-lived database passes through every such boundary.
 */
await describeEachAdapter('event log order across transaction ids of different lengths', ({ db: getDb }) => {
  let db: Database;
  const log = new EventLog('storeflow-ordering', () => T0);
  const stream = `product-${unique()}`;
  // Inserted out of order, so positions do not follow transaction ids either.
  const transactionIds = ['100', '98', '101', '99'];

  /** Writes an event row as transaction `transactionId` would have committed it. */
  async function insertAs(transactionId: string, e: NewEvent): Promise<void> {
    await db.query(
      `INSERT INTO events (id, name, version, stream, stream_version, occurred_at, source, merchant_id, store_id, metadata, payload, transaction_id)
       VALUES ($1, $2, $3, $4, $5, $6, 'storeflow-ordering', $7, $8, $9, $10, $11::xid8)`,
      [randomUUID(), e.name, e.version, e.stream, e.stream_version, T0, e.metadata.merchant_id, e.metadata.store_id,
        JSON.stringify(e.metadata), JSON.stringify(e.payload), transactionId],
    );
  }

  beforeAll(async () => {
    db = getDb();
    await createProbeTable(db);
    const productId = Number(stream.slice('product-'.length));
    for (const [i, transactionId] of transactionIds.entries()) {
      await insertAs(transactionId, productEvent({ productId, version: i + 1, storeId: 1 }));
    }
  });

  const numerically = [...transactionIds].sort((a, b) => Number(a) - Number(b));

  it('reads in numeric transaction-id order where the ids differ in their number of digits', async () => {
    const events = await log.readAfter(db, START, { stream });
    expect(events.map((e) => e.transaction_id)).toEqual(numerically);

    const firstTwo = await log.readAfter(db, START, { stream, limit: 2 });
    expect(firstTwo.map((e) => e.transaction_id)).toEqual(['98', '99']);
    const rest = await log.readAfter(db, { transactionId: 99n, position: firstTwo[1]!.position }, { stream });
    expect(rest.map((e) => e.transaction_id)).toEqual(['100', '101']);
  });

  it('delivers such events to a subscription once each, in numeric transaction-id order', async () => {
    const name = `ordering-${unique()}`;
    await startPipeline(db, log, [new ProbeSubscriber(name)]);
    const last = (await log.readAfter(db, START, { stream })).at(-1)!;

    await waitForCheckpoint(db, name, last.checkpoint);

    expect((await deliveries(db, name)).map((d) => d.transaction_id)).toEqual(numerically);
  });
});
