import { expect } from 'vitest';
import {
  decide,
  evolveAll,
  type FulfilmentType,
  type OrderCommand,
  type OrderEvent,
  type OrderState,
  type Role,
} from '../../src/domain/index.js';
import { AppError, type ErrorCode } from '../../src/shared/index.js';
import { actor, minutesAfterT0, newOrder, T0 } from './order-fixtures.js';

/**
 * Given/when/then for the order decider:
 *
 *   givenOrder(orderIn('pickup', 'ready')).when(changeTo('completed'), 'staff').thenEvents([...])
 *
 * The state is frozen first, so a decider that mutates its input fails loudly.
 */
export function givenOrder(state: OrderState) {
  const frozen = Object.freeze({ ...state });
  return {
    when(command: OrderCommand, role: Role, now: Date = T0) {
      const run = () => decide(command, frozen, { actor: actor(role), now });
      return {
        thenEvents(expected: OrderEvent[]): OrderEvent[] {
          const events = run();
          expect(events).toEqual(expected);
          return events;
        },
        /** The order after the decided events are folded in. */
        thenOrder(expected: Partial<OrderState>): OrderState {
          const next = evolveAll(frozen, run());
          expect(next).toMatchObject(expected);
          return next;
        },
        thenRefused(code: ErrorCode, details?: Record<string, unknown>): AppError {
          let events: OrderEvent[];
          try {
            events = run();
          } catch (e) {
            expect(e).toBeInstanceOf(AppError);
            const err = e as AppError;
            expect({ code: err.code, details: err.details }).toMatchObject({ code, ...(details ? { details } : {}) });
            return err;
          }
          return expect.fail(`expected ${code}, but the decider emitted ${JSON.stringify(events)}`);
        },
      };
    },
  };
}

export interface Step {
  command: OrderCommand;
  role: Role;
}

/** Runs commands one minute apart from T0 through decide and evolve, from a new order. */
export function replay(type: FulfilmentType, steps: readonly Step[]): { state: OrderState; events: OrderEvent[] } {
  let state = newOrder(type);
  const events: OrderEvent[] = [];
  steps.forEach(({ command, role }, i) => {
    const decided = decide(command, state, { actor: actor(role), now: minutesAfterT0(i + 1) });
    events.push(...decided);
    state = evolveAll(state, decided);
  });
  return { state, events };
}
