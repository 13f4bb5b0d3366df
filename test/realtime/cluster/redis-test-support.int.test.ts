import { afterAll, expect, it } from 'vitest';
import { deleteRedisKeys, describeOnRedis, describeWithRedisServer, redisClient, redisTestPrefix, startPrivateRedis, type PrivateRedis } from '../../support/redis.js';

await describeOnRedis('test Redis support', () => {
  it('isolates keys by prefix and deletes only its own', async () => {
    const [a, b] = [redisTestPrefix(), redisTestPrefix()];
    const client = redisClient();
    try {
      await client.set(`${a}k1`, '1');
      await client.set(`${a}k2`, '2');
      await client.set(`${b}k1`, '3');
      expect(await deleteRedisKeys(a)).toBe(2);
      expect(await client.get(`${b}k1`)).toBe('3');
      expect(await deleteRedisKeys(b)).toBe(1);
    } finally {
      client.disconnect();
    }
  });
});

await describeWithRedisServer('private redis-server processes', () => {
  let server: PrivateRedis | undefined;
  afterAll(async () => server?.stop('SIGKILL'));

  it('runs a private redis-server that stops and starts again on the same port', async () => {
    server = await startPrivateRedis();
    const client = redisClient(server.url);
    try {
      await client.set('k', 'v');
      expect(await client.get('k')).toBe('v');
      await server.stop();
      expect(server.running()).toBe(false);
      await expect(client.get('k')).rejects.toThrow();
      await server.start();
      expect(server.running()).toBe(true);
      // no persistence: a restarted server starts empty
      expect(await client.get('k')).toBeNull();
    } finally {
      client.disconnect();
    }
  });
});
