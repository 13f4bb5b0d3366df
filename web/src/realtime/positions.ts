/**
 * Event positions as the server orders them. A position is a log checkpoint
 * `"<transaction id>.<position>"` (src/events/checkpoint.ts): ordered by transaction id
 * first, then by position, both compared as integers. Transaction ids are 64-bit, so they
 * are compared as bigints, never as floats or strings ("10.5" comes after "9.7").
 *
 * Kept here, free of the server's imports, so the browser bundle carries only this; a unit
 * test checks that it agrees with the server's `compareCheckpoints`.
 */
const PATTERN = /^(\d{1,20})\.(\d{1,15})$/;

export function isPosition(value: unknown): value is string {
  return typeof value === 'string' && PATTERN.test(value);
}

/** Negative when `a` comes first in the log, positive when `b` does, 0 when equal. */
export function comparePositions(a: string, b: string): number {
  const ma = PATTERN.exec(a);
  const mb = PATTERN.exec(b);
  if (!ma || !mb) throw new Error(`not a log position: ${ma ? b : a}`);
  const ta = BigInt(ma[1] ?? '0');
  const tb = BigInt(mb[1] ?? '0');
  if (ta !== tb) return ta < tb ? -1 : 1;
  return Number(ma[2]) - Number(mb[2]);
}

export const START_POSITION = '0.0';
