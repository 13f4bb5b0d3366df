import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '../../../src/app/demo-seed.js';
import { demoEmail, startTestApp, type TestApp } from '../../support/http-app.js';
import { deleteRedisKeys, describeOnRedis, describeWithRedisServer, REDIS_URL, redisClient, redisTestPrefix, startPrivateRedis, type PrivateRedis } from '../../support/redis.js';
import { waitFor } from '../../support/waiting.js';

/**
 * StoreFlow with REDIS_URL: readiness and metrics show Redis, and rate-limit counters are
 * the cluster's (two nodes share one budget per client address). With Redis gone, requests
 * are neither refused nor slowed by the rate limiter: it lets them through.
 */
await describeOnRedis('StoreFlow nodes sharing Redis', () => {
  const prefix = redisTestPrefix();
  const env = { REDIS_URL, REDIS_KEY_PREFIX: prefix, RATE_LIMIT_LOGIN_PER_MINUTE: '3' };
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    [a, b] = [await startTestApp({ env }), await startTestApp({ env })];
    await Promise.all([a.flow.start(), b.flow.start()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await deleteRedisKeys(prefix);
  });

  const login = (t: TestApp) =>
    t.http.inject({ method: 'POST', url: '/api/auth/login', payload: { email: demoEmail('staff'), password: DEMO_PASSWORD } });

  it('reports Redis in readiness and metrics', async () => {
    const ready = await a.http.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.json(), ready.body).toMatchObject({ status: 'ready', checks: { redis: { required: false, status: 'up' } } });
    const metrics = await waitFor(
      'connected gauges',
      async () => {
        const body = (await a.http.inject({ method: 'GET', url: '/metrics' })).body;
        return body.includes('storeflow_redis_connected{connection="fanout"} 1') && body.includes('storeflow_redis_connected{connection="state"} 1') && body;
      },
      5_000,
    );
    expect(metrics).toContain('storeflow_realtime_fanout_publish_failures_total 0');
  });

  it('counts sign-in attempts per address across nodes', async () => {
    const statuses = [(await login(a)).statusCode, (await login(b)).statusCode, (await login(a)).statusCode, (await login(b)).statusCode];
    expect(statuses).toEqual([200, 200, 200, 429]);
    const client = redisClient();
    try {
      expect((await client.keys(`${prefix}rl:*`)).length).toBeGreaterThan(0);
    } finally {
      client.disconnect();
    }
  });

  it('registers both nodes in the cluster', async () => {
    const client = redisClient();
    try {
      await waitFor('two nodes', async () => (await client.zcard(`${prefix}rt:nodes`)) === 2, 5_000);
    } finally {
      client.disconnect();
    }
  });
});

await describeWithRedisServer('StoreFlow while its Redis is down (private redis-server)', () => {
  let redis: PrivateRedis | undefined;
  let node: TestApp | undefined;
  afterAll(async () => {
    await node?.close();
    await redis?.stop('SIGKILL');
  });

  it('lets requests through the rate limiter, and stays ready (degraded), while Redis is down', async () => {
    redis = await startPrivateRedis();
    node = await startTestApp({ env: { REDIS_URL: redis.url, RATE_LIMIT_LOGIN_PER_MINUTE: '100' } });
    await node.flow.start();
    await redis.stop('SIGKILL');
    const res = await node.http.inject({ method: 'POST', url: '/api/auth/login', payload: { email: demoEmail('staff'), password: DEMO_PASSWORD } });
    expect(res.statusCode, res.body).toBe(200);
    const ready = await node.http.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'degraded', checks: { redis: { status: 'down' } } });
  });
});
