import { describe, expect, it } from 'vitest';
import { RealtimeCounters } from '../../src/realtime/metrics/realtime-counters.js';
import { HeartbeatSweep, PING_SPREAD, SWEEP_SLICES } from '../../src/realtime/protocol/heartbeats.js';
import type { NodeState } from '../../src/realtime/protocol/node-state.js';
import { DEFAULT_SERVER_LIMITS } from '../../src/realtime/protocol/server-limits.js';
import { Session } from '../../src/realtime/protocol/session.js';

/**
 * Connections opened together are pinged over a window of PING_SPREAD × the activity
 * timeout, not all in one sweep (heartbeats.ts): none before the timeout, all by its end.
 */
describe('heartbeat sweep', () => {
  const TIMEOUT_S = 30;
  const crowd = (n: number) => {
    const pinged: number[] = [];
    const sessions = Array.from({ length: n }, (_, i) => {
      const conn = {
        socketId: `1.${i}`,
        app: { activityTimeoutSeconds: TIMEOUT_S },
        lastActivity: 0,
        bufferedBytes: 0,
        send: () => pinged.push(i),
      };
      const session = new Session(conn as never, 0, 1 << 20, new RealtimeCounters(), () => {});
      session.engaged = true;
      return session;
    });
    const state = { sessions: () => sessions, connectionCount: n } as unknown as NodeState;
    const sweeper = new HeartbeatSweep(state, DEFAULT_SERVER_LIMITS, () => {});
    /** One whole pass: every connection looked at once. */
    const sweep = (atMs: number) => {
      for (let i = 0; i < SWEEP_SLICES; i++) sweeper.tick(atMs);
    };
    return { pinged, sweep, tick: (atMs: number) => sweeper.tick(atMs) };
  };

  it('pings no connection before its activity timeout and every one by the end of the spread', () => {
    const { pinged, sweep } = crowd(2_000);
    sweep(TIMEOUT_S * 1000 - 1);
    expect(pinged).toHaveLength(0);
    sweep(TIMEOUT_S * 1000 * (1 + PING_SPREAD) + 1);
    expect(new Set(pinged).size).toBe(2_000);
    expect(pinged).toHaveLength(2_000); // once each: a ping waits for its answer
  });

  it('spreads a crowd that went idle together over the window instead of one sweep', () => {
    const { pinged, sweep } = crowd(2_000);
    const windowMs = TIMEOUT_S * 1000 * PING_SPREAD;
    const perQuarter: number[] = [];
    for (let q = 1; q <= 4; q++) {
      const before = pinged.length;
      sweep(TIMEOUT_S * 1000 + (q * windowMs) / 4);
      perQuarter.push(pinged.length - before);
    }
    // Uniform: about 500 a quarter; a binomial(2000, 1/4) stays within 350..650 (over 8 sigma).
    for (const n of perQuarter) expect(n).toBeGreaterThan(350);
    for (const n of perQuarter) expect(n).toBeLessThan(650);
  });

  it('pings a crowd that is all due in slices of a tick each, not in one burst', () => {
    const { pinged, tick } = crowd(2_000);
    const late = TIMEOUT_S * 1000 * (1 + PING_SPREAD) + 1;
    const perTick: number[] = [];
    for (let i = 0; i < SWEEP_SLICES; i++) {
      const before = pinged.length;
      tick(late);
      perTick.push(pinged.length - before);
    }
    expect(perTick).toEqual(Array(SWEEP_SLICES).fill(2_000 / SWEEP_SLICES));
    tick(late); // the next pass: everyone is waiting for a pong, nobody is pinged again
    expect(pinged).toHaveLength(2_000);
  });
});
