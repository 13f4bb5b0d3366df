import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DependencyCheck } from '../../src/http/routes/health-routes.js';
import { expectErrorBody, startTestApp, type TestApp } from '../support/http-app.js';

/**
 * GET /health/ready: what load balancers ask. Ready while every required dependency answers;
 * an optional one that is down only degrades it; a required one down, or a node that is
 * draining for shutdown, answers 503 NOT_READY. A probe that never answers is cut off.
 */
describe('readiness', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  const ready = () => t.http.inject({ method: 'GET', url: '/health/ready' });
  const withCheck = async (check: DependencyCheck, body: () => Promise<void>) => {
    t.flow.readinessChecks.push(check);
    try {
      await body();
    } finally {
      t.flow.readinessChecks.splice(t.flow.readinessChecks.indexOf(check), 1);
    }
  };

  it('is ready with the database up, and reports its kind and latency', async () => {
    const res = await ready();
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      status: 'ready',
      draining: false,
      checks: { database: { kind: 'pglite', required: true, status: 'up', latency_ms: expect.any(Number) } },
    });
  });

  it('stays ready but degraded while an optional dependency is down', async () => {
    await withCheck({ name: 'redis', required: false, probe: () => Promise.reject(new Error('connect ECONNREFUSED')) }, async () => {
      const res = await ready();
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({
        status: 'degraded',
        checks: { database: { status: 'up' }, redis: { required: false, status: 'down', error: 'connect ECONNREFUSED' } },
      });
    });
  });

  it('answers 503 NOT_READY, without hanging, while a required dependency does not answer', async () => {
    await withCheck({ name: 'stuck', required: true, probe: () => new Promise(() => {}) }, async () => {
      const res = await ready();
      expectErrorBody(res.statusCode, { error: res.json().error });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({
        status: 'unavailable',
        draining: false,
        checks: { database: { status: 'up' }, stuck: { status: 'down', error: expect.stringMatching(/timed out/) } },
        error: { code: 'NOT_READY', details: { draining: false, down: ['stuck'] } },
      });
    });
  });

  it('answers 503 NOT_READY once the node drains for shutdown, while liveness stays 200', async () => {
    t.flow.drain();
    const res = await ready();
    expect(res.statusCode, res.body).toBe(503);
    expect(res.json()).toMatchObject({ draining: true, checks: { database: { status: 'up' } }, error: { code: 'NOT_READY', details: { draining: true, down: [] } } });
    expect((await t.http.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });
});
