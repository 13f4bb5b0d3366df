import { describe, expect, it } from 'vitest';
import { compareCheckpoints, formatCheckpoint, parseCheckpoint, START, type Checkpoint } from '../../../src/events/index.js';
import { AppError } from '../../../src/shared/index.js';
import { itEach } from '../../support/it-each.js';

const cp = (transactionId: bigint, position: number): Checkpoint => ({ transactionId, position });
const MAX_XID8 = 2n ** 64n - 1n;

function refusal(s: string): { code: string; details: unknown } {
  try {
    parseCheckpoint(s);
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return { code: (e as AppError).code, details: (e as AppError).details };
  }
  return expect.fail(`expected ${JSON.stringify(s)} to be refused`);
}

describe('checkpoint format and parse', () => {
  it('writes the start of the log as "0.0" and reads it back as START', () => {
    expect(formatCheckpoint(START)).toBe('0.0');
    expect(parseCheckpoint('0.0')).toEqual(START);
  });

  itEach([
    cp(0n, 0),
    cp(1n, 1),
    cp(731n, 42),
    cp(2n ** 53n + 1n, 7),
    cp(MAX_XID8, 999_999_999_999_999),
  ])('round-trips $transactionId.$position', (c) => {
    expect(parseCheckpoint(formatCheckpoint(c))).toEqual(c);
  });

  it('reads the transaction id as a bigint without losing precision', () => {
    expect(parseCheckpoint('18446744073709551615.3')).toEqual(cp(MAX_XID8, 3));
    expect(parseCheckpoint('9007199254740993.1').transactionId).toBe(9_007_199_254_740_993n);
  });

  it('reads leading zeros as the same number', () => {
    expect(parseCheckpoint('007.010')).toEqual(cp(7n, 10));
  });

  itEach([
    { label: 'an empty string', s: '' },
    { label: 'a bare number', s: '12' },
    { label: 'a missing position', s: '12.' },
    { label: 'a missing transaction', s: '.12' },
    { label: 'a negative transaction', s: '-1.2' },
    { label: 'a negative position', s: '1.-2' },
    { label: 'three parts', s: '1.2.3' },
    { label: 'leading space', s: ' 1.2' },
    { label: 'trailing space', s: '1.2 ' },
    { label: 'a trailing newline', s: '1.2\n' },
    { label: 'letters', s: 'a.b' },
    { label: 'hex', s: '0x1.2' },
    { label: 'an exponent', s: '1e3.2' },
    { label: 'a comma', s: '1,2' },
    { label: 'a transaction id above 2^64-1', s: `${MAX_XID8 + 1n}.0` },
    { label: 'a transaction id of 21 digits', s: `${'1'.repeat(21)}.0` },
    { label: 'a position of 16 digits', s: `1.${'1'.repeat(16)}` },
  ])('refuses $label with CHECKPOINT_INVALID', ({ s }) => {
    expect(refusal(s)).toEqual({ code: 'CHECKPOINT_INVALID', details: { after: s } });
  });

  it('echoes at most 64 characters of a bad checkpoint', () => {
    const junk = 'x'.repeat(1000);
    expect(refusal(junk)).toEqual({ code: 'CHECKPOINT_INVALID', details: { after: 'x'.repeat(64) } });
  });
});

describe('checkpoint ordering', () => {
  it('orders by transaction id first, whatever the positions', () => {
    expect(Math.sign(compareCheckpoints(cp(1n, 900), cp(2n, 5)))).toBe(-1);
    expect(Math.sign(compareCheckpoints(cp(2n, 5), cp(1n, 900)))).toBe(1);
  });

  it('orders by position within one transaction', () => {
    expect(Math.sign(compareCheckpoints(cp(4n, 1), cp(4n, 2)))).toBe(-1);
    expect(Math.sign(compareCheckpoints(cp(4n, 2), cp(4n, 1)))).toBe(1);
  });

  it('finds equal checkpoints equal', () => {
    expect(compareCheckpoints(cp(4n, 2), parseCheckpoint('4.2'))).toBe(0);
  });

  it('tells apart transaction ids that differ only beyond Number precision', () => {
    expect(Math.sign(compareCheckpoints(cp(2n ** 53n, 0), cp(2n ** 53n + 1n, 0)))).toBe(-1);
  });

  it('puts START before every other checkpoint and sorts a mixed list', () => {
    const sorted = ['3.1', '1.9', '0.0', '3.0', '2.5'].map(parseCheckpoint).sort(compareCheckpoints).map(formatCheckpoint);
    expect(sorted).toEqual(['0.0', '1.9', '2.5', '3.0', '3.1']);
  });
});
