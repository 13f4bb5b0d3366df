import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/shared/index.js';

describe('backoffDelay', () => {
  const policy = { maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 1_000 };

  it('doubles the ceiling with each attempt up to the bound', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy, () => 1))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('never waits less than the base delay, whatever the jitter', () => {
    expect([1, 2, 5].map((n) => backoffDelay(n, policy, () => 0))).toEqual([100, 100, 100]);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(250);
  });
});
