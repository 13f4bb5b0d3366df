import { EVENT_CATALOGUE } from './catalogue.js';

/**
 * Upcasters turn an event stored under an older version into the current shape, so
 * consumers only ever see the latest version of each event type. Each step lifts one
 * version; steps chain. The log itself is never rewritten.
 */
export interface UpcastContext {
  stream_version: number;
}

type Step = (payload: Record<string, unknown>, ctx: UpcastContext) => Record<string, unknown>;

const STEPS: Record<string, Record<number, Step>> = {
  OrderStatusUpdated: {
    // v1 is the seed's shape (seed 002 §12): no version, reason or override flag. The
    // order version is the event's stream version; v1 had no overrides or reasons.
    1: (p, ctx) => ({ ...p, version: ctx.stream_version, reason: null, override: false }),
  },
};

export function upcast(name: string, version: number, payload: unknown, ctx: UpcastContext): { version: number; payload: unknown } {
  const current = EVENT_CATALOGUE.get(name)?.version;
  if (current === undefined || version >= current) return { version, payload };
  let p = payload as Record<string, unknown>;
  let v = version;
  while (v < current) {
    const step = STEPS[name]?.[v];
    if (!step) throw new Error(`no upcaster for ${name} v${v} -> v${v + 1}`);
    p = step(p, ctx);
    v++;
  }
  return { version: v, payload: p };
}
