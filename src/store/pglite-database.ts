import { PGlite, types } from '@electric-sql/pglite';
import type { Database, Lease, Row, Sql } from './db.js';

/**
 * Embedded PostgreSQL (WASM) in a data folder, or in memory when `dataDir` is undefined.
 * One connection in one process: statements and transactions run one at a time, in order;
 * leases are bookkeeping within this process.
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  private readonly leases = new Set<string>();

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

  async tryLease(key: string): Promise<Lease | null> {
    if (this.leases.has(key)) return null;
    this.leases.add(key);
    return {
      query: (text, params) => this.query(text, params),
      exec: (script) => this.exec(script),
      transaction: (fn) => this.transaction(fn),
      lost: new Promise<void>(() => {}),
      release: async () => {
        this.leases.delete(key);
      },
    };
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    const unlisten = await this.db.listen(channel, (payload) => onNotify(payload));
    return async () => unlisten();
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
