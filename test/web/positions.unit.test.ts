import { describe, expect, it } from 'vitest';
import { compareCheckpoints, parseCheckpoint } from '../../src/events/index.js';
import { comparePositions, isPosition } from '../../web/src/realtime/positions.js';

describe('positions in the browser client', () => {
  const samples = ['0.0', '0.5', '9.7', '10.5', '10.40', '731.42', '18446744073709551615.1', '9007199254740993.7', '9007199254740992.8'];

  it('orders positions exactly as the server orders checkpoints', () => {
    for (const a of samples) {
      for (const b of samples) {
        expect(Math.sign(comparePositions(a, b)), `${a} vs ${b}`).toBe(Math.sign(compareCheckpoints(parseCheckpoint(a), parseCheckpoint(b))));
      }
    }
  });

  it('refuses what is not a position', () => {
    for (const bad of ['', '1', '1.', '.1', 'a.b', '1.2.3', ' 1.2', '-1.2']) expect(isPosition(bad), bad).toBe(false);
    expect(() => comparePositions('1', '0.0')).toThrow(/not a log position/);
  });
});
