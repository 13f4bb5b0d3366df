import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisFanout, type FanoutMessage } from '../../../src/realtime/index.js';
import { describeWithRedisServer, redisClient, startPrivateRedis, type PrivateRedis } from '../../support/redis.js';
import { waitFor, within } from '../../support/waiting.js';

/** A private redis-server that the test stops and starts; the shared one is never touched. */
await describeWithRedisServer('Redis fan-out across a Redis outage (private redis-server)', () => {
  let redis: PrivateRedis;
  const nodes: RedisFanout[] = [];
  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.close()));
    await redis?.stop('SIGKILL');
  });

  const event = (i: number): FanoutMessage => ({
    kind: 'event',
    origin: 'server',
    publication: { appId: '1', channels: ['c'], event: 'E', data: String(i) },
  });

  it('rejects publish at once while Redis is down, and delivers again by itself when it is back', async () => {
    const errors: unknown[] = [];
    const [a, b] = [0, 1].map(() => new RedisFanout({ url: redis.url, prefix: 'outage:', onError: (e) => errors.push(e) }));
    nodes.push(a!, b!);
    expect(await a!.connect()).toBe(true);
    expect(await b!.connect()).toBe(true);
    const got: string[] = [];
    b!.onMessage((m) => got.push(m.kind === 'event' ? m.publication.data : '?'));
    await a!.publish(event(1));
    await waitFor('first delivery', () => got.length === 1, 5_000);

    await redis.stop('SIGKILL');
    await waitFor('the fan-out to notice', () => !a!.connected, 5_000);
    // Bounded well under a reconnect attempt's worth of waiting: it must not queue or hang.
    await expect(within(a!.publish(event(2)), 'publish to reject while Redis is down', 3_000)).rejects.toThrow(/writeable|Connection|closed/i);
    expect(a!.stats().publishFailures).toBe(1);

    await redis.start();
    await waitFor('both nodes back and subscribed', () => a!.connected && b!.connected, 10_000);
    await waitFor(
      'delivery after the restart',
      async () => {
        await a!.publish(event(3)).catch(() => {});
        return got.includes('3');
      },
      10_000,
    );
    expect(got).not.toContain('2');
  });

  it('skips a message it cannot decode and keeps delivering', async () => {
    const errors: unknown[] = [];
    const node = new RedisFanout({ url: redis.url, prefix: 'garbage:', onError: (e) => errors.push(e) });
    nodes.push(node);
    expect(await node.connect()).toBe(true);
    const got: FanoutMessage[] = [];
    node.onMessage((m) => got.push(m));
    const raw = redisClient(redis.url);
    try {
      await raw.publish(node.channel, 'not a fan-out message');
      await raw.publish(node.channel, Buffer.from([1, 1, 0, 255, 255, 255, 255]));
    } finally {
      raw.disconnect();
    }
    await node.publish(event(4));
    await waitFor('the good message', () => got.length === 1, 5_000);
    expect(node.stats().malformed).toBe(2);
    expect(errors.filter((e) => (e as Error).name === 'FanoutDecodeError')).toHaveLength(2);
  });
});
