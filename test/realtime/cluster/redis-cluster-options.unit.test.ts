import { describe, expect, it } from 'vitest';
import { RedisClusterState, RedisFanout } from '../../../src/realtime/index.js';

/** The cluster scripts publish member and count messages on the fan-out channel of their own prefix. */
describe('RedisClusterState options', () => {
  it('refuses a RedisFanout of another prefix (its clients would never hear members join or leave)', () => {
    const url = 'redis://127.0.0.1:1';
    const fanout = new RedisFanout({ url, prefix: 'one:' });
    expect(() => new RedisClusterState({ url, prefix: 'two:', fanout })).toThrow(/differs from its RedisFanout/);
    expect(() => new RedisClusterState({ url, prefix: 'one:', fanout })).not.toThrow();
  });
});
