import { DEMO_PASSWORD } from '../../src/app/demo-seed.js';
import { cart, demoEmail, type DemoRole } from './http-app.js';

/**
 * HTTP over real sockets to a StoreFlow node or a load balancer in front of nodes (the
 * failure suites): every call is bounded by a timeout, so a hanging server fails the test
 * instead of stalling it. Answers status and parsed body, never throws on a status.
 */
export interface NodeResponse<T = any> {
  status: number;
  body: T;
}

export async function call<T = any>(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<NodeResponse<T>> {
  const res = await fetch(base + path, {
    method,
    headers: { ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
    body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
    signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: body as T };
}

/** Signs a demo user in; answers the headers of a cookie-authenticated change (cookie + CSRF). */
export async function signIn(base: string, who: DemoRole): Promise<Record<string, string>> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: demoEmail(who), password: DEMO_PASSWORD }),
    signal: AbortSignal.timeout(15_000),
  });
  const body = (await res.json()) as { csrf_token?: string };
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('sf_session='));
  if (res.status !== 200 || !cookie || !body.csrf_token) throw new Error(`sign-in as ${who} failed: ${res.status} ${JSON.stringify(body)}`);
  return { cookie: cookie.split(';')[0] as string, 'x-csrf-token': body.csrf_token };
}

/** A public checkout of store 1's demo catalog; answers the response (201 with `order.public_id`). */
export function checkout(base: string, idempotencyKey?: string, timeoutMs?: number): Promise<NodeResponse> {
  return call(base, 'POST', '/api/stores/1/checkout', {
    body: cart('pickup'),
    headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {},
    ...(timeoutMs ? { timeoutMs } : {}),
  });
}

/** The staff board's order with this public id (store 1). */
export async function findOrder(base: string, staff: Record<string, string>, publicId: string): Promise<{ id: number; version: number; status: string }> {
  const res = await call(base, 'GET', `/api/stores/1/orders?status=pending,accepted,in_progress,ready,completed&limit=500`, { headers: staff });
  const order = (res.body.orders as { id: number; version: number; status: string; public_id: string }[] | undefined)?.find((o) => o.public_id === publicId);
  if (!order) throw new Error(`order ${publicId} not on the board (${res.status})`);
  return order;
}

/** PATCH …/status of a store-1 order at `version`. */
export function moveOrder(base: string, staff: Record<string, string>, orderId: number, status: string, version: number, timeoutMs?: number): Promise<NodeResponse> {
  return call(base, 'PATCH', `/api/stores/1/orders/${orderId}/status`, { body: { status, version }, headers: staff, ...(timeoutMs ? { timeoutMs } : {}) });
}

export interface LoadOutcome {
  op: 'checkout' | 'find' | 'move';
  status: number | string;
  at: number;
}

const PICKUP_STEPS = ['accepted', 'in_progress', 'ready', 'completed'];

/**
 * Order traffic through `base` until `running()` turns false: `workers` loops, each placing a
 * pickup order and moving it through the whole workflow. Every answer (or connection error)
 * is recorded; a failed step moves the loop on to a new order. Bounded by `maxOrders`.
 */
export function orderLoad(base: string, staff: Record<string, string>, o: { workers: number; running: () => boolean; maxOrders?: number }) {
  const outcomes: LoadOutcome[] = [];
  const record = (op: LoadOutcome['op'], status: number | string) => outcomes.push({ op, status, at: Date.now() });
  let placed = 0;
  const errorOf = (e: unknown) => String((e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message ?? e);
  const loop = async () => {
    while (o.running() && placed < (o.maxOrders ?? 200)) {
      placed++;
      try {
        const created = await checkout(base);
        record('checkout', created.status);
        if (created.status !== 201) continue;
        let order = await findOrder(base, staff, created.body.order.public_id);
        record('find', 200);
        for (const status of PICKUP_STEPS) {
          const moved = await moveOrder(base, staff, order.id, status, order.version);
          record('move', moved.status);
          if (moved.status !== 200) break;
          order = moved.body.order;
        }
      } catch (e) {
        record('find', errorOf(e));
      }
    }
  };
  const done = Promise.all(Array.from({ length: o.workers }, loop));
  return { outcomes, done };
}

/** A store's events from the catch-up endpoint, every page, in log order. */
export async function storeEvents(base: string, staff: Record<string, string>, storeId = 1): Promise<{ name: string; checkpoint: string; payload: Record<string, unknown> }[]> {
  const all: { name: string; checkpoint: string; payload: Record<string, unknown> }[] = [];
  let after = '0.0';
  for (;;) {
    const res = await call(base, 'GET', `/api/stores/${storeId}/events?after=${after}&limit=1000`, { headers: staff });
    if (res.status !== 200) throw new Error(`events read failed: ${res.status} ${JSON.stringify(res.body)}`);
    all.push(...res.body.events);
    if (!res.body.has_more) return all;
    after = res.body.next;
  }
}
