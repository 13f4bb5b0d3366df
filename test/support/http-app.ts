import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { loadConfig } from '../../src/app/config.js';
import { DEMO_PASSWORD, type DemoSeed } from '../../src/app/demo-seed.js';
import { createStoreFlow, type StoreFlow } from '../../src/app/storeflow.js';
import { ERROR_REGISTRY, type Clock, type ErrorCode } from '../../src/shared/index.js';
import type { Database, OrderView } from '../../src/store/index.js';
import { createPgliteDatabase, type TestDatabase } from './databases.js';

/**
 * The HTTP API end to end, in process: createStoreFlow on a fresh database (PGlite unless
 * one is given), requests through Fastify's `inject()`, sign-in as the seeded demo users.
 */
export interface TestApp {
  flow: StoreFlow;
  http: FastifyInstance;
  db: Database;
  seed: DemoSeed;
  close(): Promise<void>;
}

/** Rate limits high enough that a suite's many calls from one address are never throttled. */
const GENEROUS_LIMITS = {
  RATE_LIMIT_LOGIN_PER_MINUTE: '100000',
  RATE_LIMIT_CHECKOUT_PER_MINUTE: '100000',
  RATE_LIMIT_COMMANDS_PER_MINUTE: '1000000',
};

/** StoreFlow's Pusher app in tests: given, so nothing is generated into a data folder. */
export const TEST_PUSHER_APP = { id: '424242', key: 'storeflow-test-key', secret: 'storeflow-test-secret-0123456789' };
const TEST_PUSHER_ENV = {
  PUSHER_APP_ID: TEST_PUSHER_APP.id,
  PUSHER_APP_KEY: TEST_PUSHER_APP.key,
  PUSHER_APP_SECRET: TEST_PUSHER_APP.secret,
};

export async function startTestApp(
  options: { env?: Record<string, string>; clock?: Clock; database?: TestDatabase } = {},
): Promise<TestApp> {
  const database = options.database ?? (await createPgliteDatabase());
  const config = loadConfig({ ...GENEROUS_LIMITS, ...TEST_PUSHER_ENV, LOG_LEVEL: 'silent', ...options.env });
  const flow = await createStoreFlow(config, {
    db: database.db,
    logger: false,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  if (!flow.seeded) throw new Error('expected the demo merchant to be seeded on a fresh database');
  await flow.http.ready();
  return {
    flow,
    http: flow.http,
    db: database.db,
    seed: flow.seeded,
    async close() {
      await flow.stop();
      await database.drop();
    },
  };
}

export type DemoRole = 'owner' | 'manager' | 'staff';

export const demoEmail = (role: DemoRole, domain = 'demo.storeflow.test') => `${role}@${domain}`;

export interface Session {
  cookie: string;
  csrf: string;
  /** Headers for a cookie-authenticated call; mutations need the CSRF token too. */
  headers: { cookie: string; 'x-csrf-token': string };
}

export async function login(http: FastifyInstance, who: DemoRole | string, password = DEMO_PASSWORD): Promise<Session> {
  const email = who.includes('@') ? who : demoEmail(who as DemoRole);
  const res = await http.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } });
  expect(res.statusCode, res.body).toBe(200);
  const cookie = res.cookies.find((c) => c.name === 'sf_session');
  if (!cookie) throw new Error('login set no session cookie');
  const csrf = String(res.json().csrf_token);
  const header = `sf_session=${cookie.value}`;
  return { cookie: header, csrf, headers: { cookie: header, 'x-csrf-token': csrf } };
}

/** A bearer API token created by the signed-in user. */
export async function apiToken(http: FastifyInstance, session: Session, name = 'e2e integration'): Promise<string> {
  const res = await http.inject({ method: 'POST', url: '/api/auth/tokens', headers: session.headers, payload: { name } });
  expect(res.statusCode, res.body).toBe(201);
  return String(res.json().token);
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export const customer = { name: 'Ada Customer', email: 'ada@example.test', phone: '+49 30 1234567' };
export const address = { line1: 'Hauptstraße 1', city: 'Berlin', postal_code: '10115', country: 'DE' };

/** A valid checkout body for store 1's catalog; override any field. */
export function cart(type: 'pickup' | 'shipping' = 'pickup', overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    fulfilment_type: type,
    items: [
      { product_id: 1, quantity: 2 },
      { product_id: 3, quantity: 1 },
    ],
    customer,
    ...(type === 'shipping' ? { shipping_address: address, shipping_method: 'standard' } : {}),
    ...overrides,
  };
}

export function postCheckout(
  http: FastifyInstance,
  storeId: number,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return http.inject({ method: 'POST', url: `/api/stores/${storeId}/checkout`, headers, payload: body as object });
}

/**
 * Places an order through the public checkout and returns the staff view of it (the
 * checkout answer deliberately carries no internal id, so the board is asked for it).
 */
export async function placeOrder(
  http: FastifyInstance,
  staff: Session,
  options: { storeId?: number; type?: 'pickup' | 'shipping'; body?: Record<string, unknown> } = {},
): Promise<OrderView> {
  const storeId = options.storeId ?? 1;
  const body = options.body ?? cart(options.type ?? 'pickup', storeId === 1 ? {} : { items: [{ product_id: firstProductOf(storeId), quantity: 1 }] });
  const res = await postCheckout(http, storeId, body);
  expect(res.statusCode, res.body).toBe(201);
  const publicId = String(res.json().order.public_id);
  const board = await http.inject({ method: 'GET', url: `/api/stores/${storeId}/orders?status=pending&limit=500`, headers: staff.headers });
  expect(board.statusCode, board.body).toBe(200);
  const order = (board.json().orders as OrderView[]).find((o) => o.public_id === publicId);
  if (!order) throw new Error(`order ${publicId} is not on the board of store ${storeId}`);
  return order;
}

/** Demo stores hold five products each, in seed order. */
const firstProductOf = (storeId: number) => (storeId - 1) * 5 + 1;

/** Moves an order with a PATCH …/status as `session`, expecting success; returns the order. */
export async function moveTo(
  http: FastifyInstance,
  session: Session,
  order: Pick<OrderView, 'id' | 'store_id' | 'version'>,
  status: string,
  extra: Record<string, unknown> = {},
): Promise<OrderView> {
  const res = await http.inject({
    method: 'PATCH',
    url: `/api/stores/${order.store_id}/orders/${order.id}/status`,
    headers: session.headers,
    payload: { status, version: order.version, ...extra },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().order as OrderView;
}

export const orderUrl = (order: Pick<OrderView, 'id' | 'store_id'>, action = '') =>
  `/api/stores/${order.store_id}/orders/${order.id}${action}`;

export type OrderCommandArgs = [
  session: Session,
  order: Pick<OrderView, 'id' | 'store_id'>,
  action: '/status' | '/ship' | '/cancel' | '/reject' | '/override',
  payload: Record<string, unknown>,
  headers?: Record<string, string>,
];

/** One order command as `session`: `/status` is a PATCH, the named actions (`/ship`, `/cancel`, …) are POSTs. */
export function orderCommand(http: FastifyInstance, ...[session, order, action, payload, headers = {}]: OrderCommandArgs) {
  return http.inject({
    method: action === '/status' ? 'PATCH' : 'POST',
    url: orderUrl(order, action),
    headers: { ...session.headers, ...headers },
    payload,
  });
}

/**
 * Asserts the one error shape `{error: {code, message, details?}}`, a code from the
 * registry and the status the registry gives that code.
 */
export function expectError(res: LightMyRequestResponse, code: ErrorCode): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
  expectErrorShape(res);
  const body = res.json();
  expect(body.error.code, res.body).toBe(code);
  expect(res.statusCode, res.body).toBe(ERROR_REGISTRY[code].status);
  return body.error;
}

export function expectErrorShape(res: LightMyRequestResponse): void {
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expectErrorBody(res.statusCode, res.json());
}

/** The error shape check on an already parsed body (e.g. from a real `fetch`). */
export function expectErrorBody(status: number, body: { error?: Record<string, unknown> }): void {
  expect(Object.keys(body)).toEqual(['error']);
  const error = body.error ?? {};
  expect(error).toEqual({
    code: expect.any(String),
    message: expect.any(String),
    ...('details' in error ? { details: expect.any(Object) } : {}),
  });
  expect(Object.keys(ERROR_REGISTRY), `unregistered error code ${String(error.code)}`).toContain(error.code);
  expect(status).toBe(ERROR_REGISTRY[error.code as ErrorCode].status);
}

/** Every object key anywhere in a JSON value, recursively. */
export function allKeys(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(allKeys);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [k, ...allKeys(v)]);
  }
  return [];
}
