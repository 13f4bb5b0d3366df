import { it } from 'vitest';

/**
 * `it.each` over objects, with `$field` in the name replaced by the plain value: vitest's own
 * `$field` quotes strings, which makes behaviour names read like code.
 */
export function itEach<T extends object>(rows: readonly T[]) {
  return (name: string, test: (row: T) => void): void => {
    for (const row of rows) {
      const title = name.replace(/\$(\w+)/g, (_, key: string) => String((row as Record<string, unknown>)[key]));
      it(title, () => test(row));
    }
  };
}
