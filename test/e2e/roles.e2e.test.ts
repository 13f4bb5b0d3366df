import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/http-app.js';

/**
 * A process serves the HTTP API only with the `web` role. A worker or realtime process still
 * answers what operations need (liveness, readiness, metrics), and a realtime process the
 * Pusher endpoints — but no API a client could reach it for by mistake behind a load balancer.
 */
describe.each([
  { roles: 'worker', pusher: false },
  { roles: 'realtime,worker', pusher: true },
])('a process with roles $roles', ({ roles, pusher }) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { STOREFLOW_ROLES: roles } });
    await app.flow.start();
  });
  afterAll(() => app?.close());

  it.each(['/health', '/health/ready', '/metrics'])('answers %s', async (url) => {
    expect((await app.http.inject({ method: 'GET', url })).statusCode).toBe(200);
  });

  it.each([
    ['GET', '/api/stores/1/orders'],
    ['GET', '/api/stores/1/storefront'],
    ['POST', '/api/auth/login'],
    ['POST', '/api/stores/1/checkout'],
    ['POST', '/broadcasting/auth'],
    ['GET', '/api/client-config'],
    ['GET', '/board'],
  ] as const)('serves no API: %s %s is a 404 in the error format', async (method, url) => {
    const res = await app.http.inject({ method, url, payload: method === 'POST' ? {} : undefined });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it(pusher ? 'serves the Pusher endpoints' : 'serves no Pusher endpoints', async () => {
    expect((await app.http.inject({ method: 'GET', url: '/up' })).statusCode).toBe(pusher ? 200 : 404);
  });
});
