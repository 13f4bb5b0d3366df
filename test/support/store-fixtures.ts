import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { expect } from 'vitest';
import { seedDemo, type DemoSeed } from '../../src/app/demo-seed.js';
import type { CheckoutRequest } from '../../src/domain/index.js';
import {
  START,
  formatCheckpoint,
  parseCheckpoint,
  type Checkpoint,
  type NewEvent,
  type StoredEvent,
} from '../../src/events/index.js';
import { AppError, fixedClock, type ErrorCode } from '../../src/shared/index.js';
import {
  EventLog,
  HORIZON,
  OrderStore,
  pgErrorCode,
  type Database,
  type ReadOptions,
  type RequestContext,
  type Row,
  type Sql,
} from '../../src/store/index.js';

/**
 * Shared helpers for the store contract suites (test/contract/*.int.test.ts). Everything
 * here talks to a real database through the `Database` port; nothing is mocked.
 */
export const T0 = new Date('2025-03-01T09:00:00.000Z');

export function storeHarness(db: Database) {
  const clock = fixedClock(T0);
  const log = new EventLog('storeflow-contract', () => clock.now());
  const orders = new OrderStore(db, log, clock);
  return { clock, log, orders };
}

export const ctx = (requestId = 'req-contract'): RequestContext => ({ requestId, correlationId: `corr-${requestId}` });

/** Two merchants, each with two stores, users and a catalog (src/app/demo-seed.ts). */
export async function seedTwoMerchants(db: Database): Promise<{ a: DemoSeed; b: DemoSeed }> {
  const a = await seedDemo(db, { emailDomain: 'a.contract.test', merchantName: 'Merchant A', password: 'pw-contract' });
  const b = await seedDemo(db, { emailDomain: 'b.contract.test', merchantName: 'Merchant B', password: 'pw-contract' });
  return { a, b };
}

/** The five seeded products of the first store (ids) and of the second. */
export const productsOf = (seed: DemoSeed, store: 0 | 1) => seed.productIds.slice(store * 5, store * 5 + 5);

export const CUSTOMER = { name: 'Ada Lovelace', email: 'ada@example.com', phone: '+44 20 0000 0000' };
export const ADDRESS = { line1: '12 Analytical Row', line2: null, city: 'London', postal_code: 'N1 9GU', region: null, country: 'GB' };

export function pickupRequest(items: { product_id: number; quantity: number }[]): CheckoutRequest {
  return { fulfilment_type: 'pickup', items, customer: CUSTOMER };
}

export function shippingRequest(items: { product_id: number; quantity: number }[], method = 'standard'): CheckoutRequest {
  return { fulfilment_type: 'shipping', items, customer: CUSTOMER, shipping_address: ADDRESS, shipping_method: method };
}

/** Awaits `p` and checks it is refused with the AppError `code`; returns the error. */
export async function expectAppError(p: Promise<unknown>, code: ErrorCode): Promise<AppError> {
  const err = await p.then(
    (v) => expect.fail(`expected ${code}, got ${JSON.stringify(v)}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe(code);
  return err as AppError;
}

/** Awaits `p` and checks the database refused it with SQLSTATE `sqlstate`. */
export async function expectSqlState(p: Promise<unknown>, sqlstate: string): Promise<unknown> {
  const err = await p.then(
    () => expect.fail(`expected SQLSTATE ${sqlstate}, but the statement succeeded`),
    (e: unknown) => e,
  );
  expect(pgErrorCode(err), String(err)).toBe(sqlstate);
  return err;
}

/** How many rows each table holds for one order: a command must move these together or not at all. */
export async function orderFootprint(db: Database, orderId: number) {
  const [row] = await db.query<{ orders: number; items: number; audit: number; events: number }>(
    `SELECT (SELECT count(*) FROM orders WHERE id = $1)::int AS orders,
            (SELECT count(*) FROM order_items WHERE order_id = $1)::int AS items,
            (SELECT count(*) FROM audit_log WHERE entity = 'order' AND entity_id = $1::text)::int AS audit,
            (SELECT count(*) FROM events WHERE stream = 'order-' || $1::text)::int AS events`,
    [orderId],
  );
  return row!;
}

export async function tableCounts(db: Database) {
  const [row] = await db.query<{ orders: number; items: number; audit: number; events: number }>(
    `SELECT (SELECT count(*) FROM orders)::int AS orders, (SELECT count(*) FROM order_items)::int AS items,
            (SELECT count(*) FROM audit_log)::int AS audit, (SELECT count(*) FROM events)::int AS events`,
  );
  return row!;
}

export async function orderRowOf(db: Database, orderId: number): Promise<Row> {
  const [row] = await db.query('SELECT * FROM orders WHERE id = $1', [orderId]);
  if (!row) throw new Error(`order ${orderId} not found`);
  return row;
}

export async function auditRowsOf(db: Database, orderId: number) {
  return db.query<{ action: string; user_id: number | null; store_id: number; merchant_id: number; meta: Record<string, unknown>; request_id: string | null }>(
    `SELECT action, user_id, store_id, merchant_id, meta, request_id FROM audit_log
     WHERE entity = 'order' AND entity_id = $1::text ORDER BY id`,
    [orderId],
  );
}

/**
 * A valid ProductUpdated event for `stream`/`version`: the smallest catalogue entry, handy
 * for exercising the log itself. The log does not check that the product exists.
 */
export function productEvent(opts: { productId: number; version: number; storeId: number; merchantId?: number; name?: string }): NewEvent {
  return {
    name: 'ProductUpdated',
    version: 1,
    stream: `product-${opts.productId}`,
    stream_version: opts.version,
    payload: {
      product_id: opts.productId,
      store_id: opts.storeId,
      name: opts.name ?? `Product ${opts.productId}`,
      price_minor: 100 * opts.version,
      currency: 'EUR',
      active: true,
      changed: ['price_minor'],
      timestamp: T0.toISOString(),
      version: Math.max(opts.version, 2),
    },
    metadata: {
      merchant_id: opts.merchantId ?? 1,
      store_id: opts.storeId,
      actor: { type: 'system', id: null },
      correlation_id: 'corr-log',
      causation_id: null,
      request_id: null,
    },
  };
}

let uniqueCounter = 0;
/** A number no other test in this process has used: keeps streams and store filters apart. */
export const unique = () => 1_000_000 + process.pid * 1000 + ++uniqueCounter;

/**
 * Waits until every event in the table is below the gap-safe horizon, i.e. a reader sees
 * all of them. A transaction appending events in flight (on PostgreSQL, possibly of another
 * test file, if it shares the database) holds readers back for a moment; this waits it out
 * rather than racing it. It synchronises; it asserts nothing about speed.
 */
export async function settleLog(db: Sql, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await db.query<{ settled: boolean }>(
      `SELECT coalesce((SELECT transaction_id FROM events ORDER BY transaction_id DESC LIMIT 1)
                       < ${HORIZON}, true) AS settled`,
    );
    if (row?.settled) return;
    if (Date.now() > deadline) throw new Error('event log did not settle: a transaction stayed open');
    await sleep(10);
  }
}

/** The checkpoint of the last event in the log (once settled): a reader starting here sees only what comes next. */
export async function tailCheckpoint(db: Database): Promise<Checkpoint> {
  await settleLog(db);
  const [row] = await db.query<{ transaction_id: string; position: number }>(
    'SELECT transaction_id::text AS transaction_id, position FROM events ORDER BY events.transaction_id DESC, events.position DESC LIMIT 1',
  );
  return row ? { transactionId: BigInt(row.transaction_id), position: Number(row.position) } : START;
}

/** Reads page by page from `from` until a page comes back empty, resuming from each page's last checkpoint. */
export async function readAll(
  log: EventLog,
  db: Sql,
  from: Checkpoint,
  options: ReadOptions = {},
): Promise<{ events: StoredEvent[]; pages: number; last: Checkpoint }> {
  const events: StoredEvent[] = [];
  let at = from;
  let pages = 0;
  for (;;) {
    const page = await log.readAfter(db, at, options);
    if (page.length === 0) return { events, pages, last: at };
    pages++;
    events.push(...page);
    at = parseCheckpoint(page[page.length - 1]!.checkpoint);
  }
}

/** Sort key of the gap-safe order. */
export const byTransactionThenPosition = (a: StoredEvent, b: StoredEvent) => {
  const ta = BigInt(a.transaction_id);
  const tb = BigInt(b.transaction_id);
  return ta === tb ? a.position - b.position : ta < tb ? -1 : 1;
};

export const checkpointOf = (e: StoredEvent): Checkpoint => parseCheckpoint(e.checkpoint);
export { formatCheckpoint, START };

/** The `Sql` port over one raw pg client, for transactions a test holds open by hand. */
export function clientSql(client: pg.Client): Sql {
  return {
    query: async <T extends object = Row>(text: string, params: readonly unknown[] = []) =>
      (await client.query(text, params as unknown[])).rows as T[],
    exec: async (script: string) => {
      await client.query(script);
    },
  };
}
