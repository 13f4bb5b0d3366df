import { AppError } from '../shared/index.js';

/**
 * A gap-safe reading position: the writing transaction id (xid8) and the global position
 * of the last event read. Ordered by transaction id first, then position. Written on the
 * wire as `"<transaction>.<position>"`; `"0.0"` is the start of the log.
 */
export interface Checkpoint {
  transactionId: bigint;
  position: number;
}

export const START: Checkpoint = { transactionId: 0n, position: 0 };

export function formatCheckpoint(c: Checkpoint): string {
  return `${c.transactionId}.${c.position}`;
}

const PATTERN = /^(\d{1,20})\.(\d{1,15})$/;

export function parseCheckpoint(s: string): Checkpoint {
  const m = PATTERN.exec(s);
  if (!m || !m[1] || !m[2]) throw new AppError('CHECKPOINT_INVALID', { after: s.slice(0, 64) });
  const transactionId = BigInt(m[1]);
  if (transactionId > 0xffff_ffff_ffff_ffffn) throw new AppError('CHECKPOINT_INVALID', { after: s.slice(0, 64) });
  return { transactionId, position: Number(m[2]) };
}

export function compareCheckpoints(a: Checkpoint, b: Checkpoint): number {
  if (a.transactionId !== b.transactionId) return a.transactionId < b.transactionId ? -1 : 1;
  return a.position - b.position;
}
