/** Percentiles and the plain-text tables bench/realtime.ts prints. */

export const round = (n: number, digits = 1): number => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n);

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles, ms rounded to 0.01. */
export function percentiles(values: readonly number[]): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN, 2);
  return { count: sorted.length, p50: at(50), p90: at(90), p99: at(99), max: at(100) };
}

/** [metric, value, target or note] */
export type Row = [string, string | number, string?];

export function printTable(title: string, rows: Row[]): void {
  const w0 = Math.max(...rows.map((r) => r[0].length), 6);
  const w1 = Math.max(...rows.map((r) => String(r[1]).length), 5);
  console.log(`\n${title}`);
  console.log('-'.repeat(Math.min(100, title.length)));
  for (const [metric, value, note] of rows) console.log(`  ${metric.padEnd(w0)}  ${String(value).padStart(w1)}${note ? `   ${note}` : ''}`);
}

export const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : String(n);

/** "met" / "MISSED" against a lower or upper bound. */
export function verdict(value: number, target: { atLeast?: number; atMost?: number }, unit = ''): string {
  if (target.atLeast !== undefined) return `target >= ${fmt(target.atLeast)}${unit}: ${value >= target.atLeast ? 'met' : 'MISSED'}`;
  if (target.atMost !== undefined) return `target <= ${fmt(target.atMost)}${unit}: ${value <= target.atMost ? 'met' : 'MISSED'}`;
  return '';
}

/** A table with a header row; numbers right-aligned. */
export function printColumns(title: string, headers: string[], rows: (string | number)[][], notes: string[] = []): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '').length)));
  const line = (cells: (string | number)[]) => `  ${cells.map((c, i) => String(c).padStart(widths[i] ?? 0)).join('  ')}`;
  console.log(`\n${title}`);
  console.log('-'.repeat(Math.min(110, title.length)));
  console.log(line(headers));
  for (const r of rows) console.log(line(r));
  for (const n of notes) console.log(`  ${n}`);
}
