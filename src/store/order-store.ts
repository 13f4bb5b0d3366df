import { createHash, randomBytes } from 'node:crypto';
import {
  decide,
  evolveAll,
  priceCheckout,
  type Actor,
  type CatalogProduct,
  type CheckoutRequest,
  type OrderCommand,
  type OrderEvent,
  type OrderItem,
  type OrderStatus,
  type ShippingMethod,
} from '../domain/index.js';
import { OrderCreated, OrderStatusUpdated, ShippingStatusUpdated, orderStream } from '../events/index.js';
import type { EventMetadata, NewEvent, StoredEvent } from '../events/index.js';
import { AppError, type Clock } from '../shared/index.js';
import { PG, pgErrorCode, type Database, type Sql } from './db.js';
import type { EventLog } from './event-log.js';
import { orderItemRow, orderRow, toOrderState, toOrderView, toTrackingView, type OrderRow, type OrderView } from './order-rows.js';

export interface RequestContext {
  requestId: string | null;
  correlationId: string;
  /** The caller's WebSocket connection (X-Socket-ID), carried into event metadata. */
  socketId?: string | null | undefined;
}

export interface CommandResult {
  order: OrderView;
  events: StoredEvent[];
}

const EVENT_VERSIONS: Record<OrderEvent['type'], number> = {
  OrderCreated: OrderCreated.version,
  OrderStatusUpdated: OrderStatusUpdated.version,
  ShippingStatusUpdated: ShippingStatusUpdated.version,
};

/** Statuses that still need work: what the operations board shows by default. */
export const ACTIVE_STATUSES: readonly OrderStatus[] = ['pending', 'accepted', 'in_progress', 'packing', 'ready', 'shipped'];

/**
 * Orders: checkout and fulfilment commands, each one transaction that writes the order row,
 * one audit row and the command's events, or nothing.
 *
 * Concurrency: a command names the order version it was decided against. The write is one
 * statement that moves the row only `WHERE version = expected`; under READ COMMITTED a racer
 * blocked on the winner's row lock re-checks that condition after the winner commits and
 * finds it false. So of N commands racing on one version exactly one commits and the rest get
 * ORDER_VERSION_CONFLICT with the order as it now is.
 */
export class OrderStore {
  constructor(
    private readonly db: Database,
    private readonly log: EventLog,
    private readonly clock: Clock,
  ) {}

  async checkout(
    storeId: number,
    request: CheckoutRequest,
    opts: RequestContext & { idempotencyKey?: string | undefined },
  ): Promise<CommandResult & { created: boolean }> {
    const hash = opts.idempotencyKey ? requestHash(request) : null;
    if (opts.idempotencyKey) {
      const replay = await this.findByIdempotencyKey(storeId, opts.idempotencyKey, hash);
      if (replay) return { order: replay, events: [], created: false };
    }
    const store = await this.loadStoreForCheckout(storeId, request);
    const priced = priceCheckout(request, store);
    const now = this.clock.now();
    const publicId = randomBytes(16).toString('base64url');
    try {
      const result = await this.db.transaction(async (tx) => {
        await this.log.lockForAppend(tx);
        const [inserted] = await tx.query(
          `INSERT INTO orders (public_id, merchant_id, store_id, fulfilment_type, status, shipping_status,
             customer_name, customer_email, customer_phone, shipping_address, shipping_method,
             subtotal_minor, shipping_cost_minor, total_minor, currency, created_at, updated_at, version,
             idempotency_key, idempotency_hash)
           VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, 1, $16, $17)
           RETURNING *`,
          [
            publicId, store.merchantId, storeId, priced.fulfilment_type,
            priced.fulfilment_type === 'shipping' ? 'pending' : null,
            priced.customer.name, priced.customer.email, priced.customer.phone,
            priced.shipping_address ? JSON.stringify(priced.shipping_address) : null, priced.shipping_method,
            priced.subtotal_minor, priced.shipping_cost_minor, priced.total_minor, priced.currency, now,
            opts.idempotencyKey ?? null, hash,
          ],
        );
        const row = orderRow.parse(inserted);
        for (const item of priced.items) {
          await tx.query(
            `INSERT INTO order_items (order_id, product_id, name, unit_price_minor, quantity, line_total_minor)
             VALUES ($1, $2, $3, $4, $5, $6)`,
            [row.id, item.product_id, item.name, item.unit_price_minor, item.quantity, item.line_total_minor],
          );
        }
        const event: OrderEvent = {
          type: 'OrderCreated',
          data: {
            order_id: row.id, public_id: publicId, merchant_id: store.merchantId, store_id: storeId,
            fulfilment_type: priced.fulfilment_type, status: 'pending', customer: priced.customer,
            shipping_address: priced.shipping_address, shipping_method: priced.shipping_method, items: priced.items,
            subtotal_minor: priced.subtotal_minor, shipping_cost_minor: priced.shipping_cost_minor,
            total_minor: priced.total_minor, currency: priced.currency, timestamp: now.toISOString(), version: 1,
          },
        };
        await audit(tx, {
          merchantId: store.merchantId, storeId, userId: null, entityId: row.id, action: 'order_created',
          meta: { new_status: 'pending', total_minor: priced.total_minor, currency: priced.currency },
          requestId: opts.requestId,
        });
        const metadata = eventMetadata(store.merchantId, storeId, { type: 'customer', id: null }, opts);
        const events = await this.log.append(tx, [toNewEvent(row.id, event, metadata)]);
        return { order: toOrderView(row, priced.items), events, created: true };
      });
      this.log.committed();
      return result;
    } catch (e) {
      // Two retries of one checkout raced: the loser returns the winner's order.
      if (opts.idempotencyKey && pgErrorCode(e) === PG.uniqueViolation) {
        const replay = await this.findByIdempotencyKey(storeId, opts.idempotencyKey, hash);
        if (replay) return { order: replay, events: [], created: false };
      }
      throw e;
    }
  }

  async execute(
    storeId: number,
    orderId: number,
    expectedVersion: number,
    command: OrderCommand,
    ctx: RequestContext & { actor: Actor },
  ): Promise<CommandResult> {
    const current = await this.load(storeId, orderId);
    if (!current) throw new AppError('ORDER_NOT_FOUND');
    if (current.row.version !== expectedVersion) throw conflict(expectedVersion, current.row, current.items);
    const { row, items } = current;
    const state = toOrderState(row);
    const now = this.clock.now();
    const decided = decide(command, state, { actor: ctx.actor, now });
    const next = evolveAll(state, decided);
    const metadata = eventMetadata(row.merchant_id, storeId, { type: 'user', id: ctx.actor.userId, role: ctx.actor.role }, ctx);
    const insert = this.log.prepareInsert(decided.map((e) => toNewEvent(row.id, e, metadata)), 20, 'EXISTS (SELECT 1 FROM upd)');
    const auditMeta = {
      old_status: row.status, new_status: next.status,
      reason: 'reason' in command ? (command.reason ?? null) : null,
      ...(next.trackingCode !== row.tracking_code ? { tracking_code: next.trackingCode } : {}),
      role: ctx.actor.role, from_version: row.version, to_version: next.version,
    };
    // One statement, so one atomic round trip: the row moves only if it still has the version
    // we decided against (a concurrent winner makes the WHERE fail after its commit), and the
    // audit row and events are written only if it moved.
    const [result] = await this.db.query<{ order_row: unknown; events: Record<string, unknown>[] | null }>(
      `WITH upd AS (
         UPDATE orders SET status = $3, shipping_status = $4, tracking_code = $5, tracking_url = $6,
           accepted_at = $7, ready_at = $8, completed_at = $9, cancelled_at = $10, rejected_at = $11,
           version = $12, updated_at = $13
         WHERE id = $1 AND version = $2 RETURNING *
       ), aud AS (
         INSERT INTO audit_log (merchant_id, store_id, user_id, entity, entity_id, action, meta, request_id)
         SELECT $14, $15, $16, 'order', $1::text, $17, $18, $19 FROM upd
       ), ev AS (${insert.sql})
       SELECT (SELECT row_to_json(upd) FROM upd) AS order_row, (SELECT json_agg(ev) FROM ev) AS events`,
      [
        row.id, expectedVersion, next.status, next.shippingStatus, next.trackingCode, next.trackingUrl,
        next.acceptedAt, next.readyAt, next.completedAt, next.cancelledAt, next.rejectedAt, next.version, now,
        row.merchant_id, storeId, ctx.actor.userId, auditAction(command), JSON.stringify(auditMeta), ctx.requestId,
        insert.param,
      ],
    );
    if (!result?.order_row) {
      const now = await this.load(storeId, orderId);
      if (!now) throw new AppError('ORDER_NOT_FOUND');
      throw conflict(expectedVersion, now.row, now.items);
    }
    const events = this.log.stored(result.events ?? []);
    this.log.committed();
    return { order: toOrderView(orderRow.parse(result.order_row), items), events };
  }

  /** The order row and its items in one round trip. */
  private async load(storeId: number, orderId: number): Promise<{ row: OrderRow; items: OrderItem[] } | null> {
    const [raw] = await this.db.query<Record<string, unknown>>(
      `SELECT o.*, (SELECT coalesce(json_agg(i ORDER BY i.id), '[]'::json) FROM order_items i WHERE i.order_id = o.id) AS items_json
       FROM orders o WHERE o.id = $1 AND o.store_id = $2`,
      [orderId, storeId],
    );
    if (!raw) return null;
    const items = (raw.items_json as unknown[]).map((r) => {
      const { order_id: _, ...item } = orderItemRow.parse(r);
      return item;
    });
    return { row: orderRow.parse(raw), items };
  }

  async get(storeId: number, orderId: number): Promise<OrderView | null> {
    const [row] = await this.db.query('SELECT * FROM orders WHERE id = $1 AND store_id = $2', [orderId, storeId]);
    if (!row) return null;
    const parsed = orderRow.parse(row);
    return toOrderView(parsed, await loadItems(this.db, parsed.id));
  }

  async getByPublicId(publicId: string) {
    const [row] = await this.db.query(
      'SELECT o.*, s.name AS store_name FROM orders o JOIN stores s ON s.id = o.store_id WHERE o.public_id = $1',
      [publicId],
    );
    if (!row) return null;
    const parsed = orderRow.parse(row);
    const view = toOrderView(parsed, await loadItems(this.db, parsed.id));
    return { order: view, tracking: toTrackingView(view, String(row.store_name)) };
  }

  /** The operations board query: a store's orders in the given statuses, oldest first. */
  async list(storeId: number, statuses: readonly OrderStatus[], limit: number): Promise<OrderView[]> {
    const rows = (
      await this.db.query(
        `SELECT * FROM orders WHERE store_id = $1 AND status = ANY($2::text[]) ORDER BY created_at, id LIMIT $3`,
        [storeId, statuses, limit],
      )
    ).map((r) => orderRow.parse(r));
    if (rows.length === 0) return [];
    const items = await this.db.query('SELECT * FROM order_items WHERE order_id = ANY($1::bigint[]) ORDER BY id', [
      rows.map((r) => r.id),
    ]);
    const byOrder = new Map<number, OrderItem[]>();
    for (const raw of items) {
      const { order_id, ...item } = orderItemRow.parse(raw);
      byOrder.set(order_id, [...(byOrder.get(order_id) ?? []), item]);
    }
    return rows.map((r) => toOrderView(r, byOrder.get(r.id) ?? []));
  }

  private async findByIdempotencyKey(storeId: number, key: string, hash: string | null): Promise<OrderView | null> {
    const [row] = await this.db.query('SELECT * FROM orders WHERE store_id = $1 AND idempotency_key = $2', [
      storeId,
      key,
    ]);
    if (!row) return null;
    const parsed = orderRow.parse(row);
    if (parsed.idempotency_hash !== hash) throw new AppError('IDEMPOTENCY_KEY_REUSED');
    return toOrderView(parsed, await loadItems(this.db, parsed.id));
  }

  private async loadStoreForCheckout(storeId: number, request: CheckoutRequest) {
    const [store] = await this.db.query<{ merchant_id: number; currency: string }>(
      'SELECT merchant_id, currency FROM stores WHERE id = $1',
      [storeId],
    );
    if (!store) throw new AppError('NOT_FOUND', { resource: 'store' });
    const products = await this.db.query<CatalogProduct & { price_minor: number }>(
      'SELECT id, name, price_minor, currency, active FROM products WHERE store_id = $1 AND id = ANY($2::bigint[])',
      [storeId, request.items.map((i) => i.product_id)],
    );
    const shippingMethods = await this.db.query<ShippingMethod & { price_minor: number }>(
      'SELECT code, name, price_minor, active FROM shipping_methods WHERE store_id = $1',
      [storeId],
    );
    return { merchantId: Number(store.merchant_id), currency: store.currency, products, shippingMethods };
  }
}

async function loadItems(sql: Sql, orderId: number): Promise<OrderItem[]> {
  const rows = await sql.query('SELECT * FROM order_items WHERE order_id = $1 ORDER BY id', [orderId]);
  return rows.map((r) => {
    const { order_id: _, ...item } = orderItemRow.parse(r);
    return item;
  });
}

function conflict(expected: number, row: OrderRow, items: OrderItem[]): AppError {
  return new AppError('ORDER_VERSION_CONFLICT', {
    expected_version: expected,
    current_version: row.version,
    order: toOrderView(row, items),
  });
}

function auditAction(command: OrderCommand): string {
  if (command.type === 'OverrideStatus') return 'status_overridden';
  if (command.to === 'cancelled') return 'order_cancelled';
  if (command.to === 'rejected') return 'order_rejected';
  if (command.to === 'shipped') return 'order_shipped';
  return 'status_changed';
}

export interface AuditEntry {
  merchantId: number | null;
  storeId: number | null;
  userId: number | null;
  entity?: string;
  entityId: number | string;
  action: string;
  meta: Record<string, unknown>;
  requestId: string | null;
}

export async function audit(tx: Sql, e: AuditEntry): Promise<void> {
  await tx.query(
    `INSERT INTO audit_log (merchant_id, store_id, user_id, entity, entity_id, action, meta, request_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [e.merchantId, e.storeId, e.userId, e.entity ?? 'order', String(e.entityId), e.action, JSON.stringify(e.meta), e.requestId],
  );
}

export function eventMetadata(
  merchantId: number,
  storeId: number,
  actor: EventMetadata['actor'],
  ctx: RequestContext,
): EventMetadata {
  return {
    merchant_id: merchantId,
    store_id: storeId,
    actor,
    correlation_id: ctx.correlationId,
    causation_id: null,
    request_id: ctx.requestId,
    ...(ctx.socketId ? { socket_id: ctx.socketId } : {}),
  };
}

function toNewEvent(orderId: number, e: OrderEvent, metadata: EventMetadata): NewEvent {
  return {
    name: e.type,
    version: EVENT_VERSIONS[e.type],
    stream: orderStream(orderId),
    stream_version: e.data.version,
    payload: e.data,
    metadata,
  };
}

/** A stable digest of a checkout body: the same key with a different body is refused. */
function requestHash(request: CheckoutRequest): string {
  return createHash('sha256').update(stableStringify(request)).digest('hex');
}

function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableStringify(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
