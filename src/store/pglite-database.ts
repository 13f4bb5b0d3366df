import { PGlite, types } from '@electric-sql/pglite';
import type { Database, Row, Sql } from './db.js';

/**
 * Embedded PostgreSQL (WASM) in a data folder, or in memory when `dataDir` is undefined.
 * One connection: PGlite runs statements and transactions one at a time, in order.
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;

  private constructor(private readonly db: PGlite) {}

  static async open(dataDir?: string): Promise<PgliteDatabase> {
    const db = await PGlite.create(dataDir, {
      parsers: { [types.INT8]: (v: string) => Number(v) },
    });
    return new PgliteDatabase(db);
  }

  async query<T extends object = Row>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await this.db.query<T>(text, params as unknown[])).rows;
  }

  async exec(script: string): Promise<void> {
    await this.db.exec(script);
  }

  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    return this.db.transaction(async (t) =>
      fn({
        query: async <R extends object = Row>(text: string, params: readonly unknown[] = []) =>
          (await t.query<R>(text, params as unknown[])).rows,
        exec: async (script: string) => {
          await t.exec(script);
        },
      }),
    );
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
