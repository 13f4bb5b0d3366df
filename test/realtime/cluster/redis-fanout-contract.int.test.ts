import { afterEach } from 'vitest';
import { RedisFanout } from '../../../src/realtime/index.js';
import { fanoutContract } from '../../support/realtime-fanout-contract.js';
import { describeOnRedis, REDIS_URL, redisTestPrefix } from '../../support/redis.js';

const opened: RedisFanout[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((f) => f.close()));
});

await describeOnRedis('Redis fan-out', () => {
  fanoutContract('redis (pub/sub, one connection pair per node)', async (n) => {
    const prefix = redisTestPrefix();
    const nodes = Array.from({ length: n }, () => new RedisFanout({ url: REDIS_URL, prefix }));
    opened.push(...nodes);
    for (const node of nodes) if (!(await node.connect(5_000))) throw new Error(`no Redis at ${REDIS_URL}`);
    return nodes;
  });
});
