import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderStream } from '../../src/events/index.js';
import { createPostgresDatabase, isCI, probePostgres, type TestDatabase } from '../support/databases.js';
import { expectErrorBody, login, placeOrder, startTestApp, type Session, type TestApp } from '../support/http-app.js';

/**
 * Two (here: twelve) members of staff press the same button at the same moment. Real
 * sockets, real PostgreSQL, truly parallel requests: exactly one wins, every other one is
 * told 409 with the order as it now is, and the log and the audit trail record one change.
 *
 * Without CI an unreachable PostgreSQL skips this suite with a clear message; in CI it fails.
 */
const PARALLEL = 12;

interface ResponseBody {
  order?: Record<string, unknown>;
  error?: Record<string, unknown>;
}
const unavailable = isCI ? null : await probePostgres();
if (unavailable) console.warn(`skipped: ${unavailable}`);

const suite = unavailable ? describe.skip : describe;

suite(`concurrent status changes on PostgreSQL over real HTTP${unavailable ? ` — skipped: ${unavailable}` : ''}`, () => {
  let database: TestDatabase;
  let t: TestApp;
  let base: string;
  let staff: Session;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    t = await startTestApp({ database });
    base = await t.http.listen({ port: 0, host: '127.0.0.1' });
    staff = await login(t.http, 'staff');
  });
  afterAll(async () => {
    await t?.close();
  });

  const rowsFor = async (orderId: number) => {
    const [audit] = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM audit_log WHERE entity = 'order' AND entity_id = $1",
      [String(orderId)],
    );
    const [events] = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE stream = $1', [orderStream(orderId)]);
    return { audit: Number(audit?.n), events: Number(events?.n) };
  };

  it(`lets exactly one of ${PARALLEL} parallel PATCHes with the same version win; the rest get 409`, async () => {
    const order = await placeOrder(t.http, staff);
    const before = await rowsFor(order.id);

    const responses = await Promise.all(
      Array.from({ length: PARALLEL }, () =>
        fetch(`${base}/api/stores/1/orders/${order.id}/status`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json', ...staff.headers },
          body: JSON.stringify({ status: 'accepted', version: order.version }),
        }).then(async (res) => ({ status: res.status, body: (await res.json()) as ResponseBody })),
      ),
    );

    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, ...Array<number>(PARALLEL - 1).fill(409)]);
    const winner = responses.find((r) => r.status === 200);
    expect(winner?.body.order).toMatchObject({ status: 'accepted', version: order.version + 1 });
    for (const loser of responses.filter((r) => r.status === 409)) {
      expect(loser.body.error).toMatchObject({
        code: 'ORDER_VERSION_CONFLICT',
        details: { expected_version: order.version, current_version: order.version + 1, order: { id: order.id, status: 'accepted' } },
      });
      expectErrorBody(loser.status, loser.body);
    }

    const after = await rowsFor(order.id);
    expect(after).toEqual({ audit: before.audit + 1, events: before.events + 1 });
    const current = await t.http.inject({ method: 'GET', url: `/api/stores/1/orders/${order.id}`, headers: staff.headers });
    expect(current.json().order).toMatchObject({ status: 'accepted', version: order.version + 1 });
  });

  it('reports its PostgreSQL pool in /metrics: clients open, idle, and requests waiting for one', async () => {
    const body = (await t.http.inject({ method: 'GET', url: '/metrics' })).body;
    const gauge = (state: string) => Number(new RegExp(`storeflow_db_pool_clients\\{state="${state}"\\} (\\d+)`).exec(body)?.[1]);
    expect(gauge('total')).toBeGreaterThanOrEqual(1); // the parallel PATCHes above opened some
    expect(gauge('idle')).toBeLessThanOrEqual(gauge('total'));
    expect(gauge('waiting')).toBe(0);
  });
});
