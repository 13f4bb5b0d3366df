import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Database } from './db.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** An arbitrary constant: the advisory lock that serialises migrations across nodes. */
const MIGRATION_LOCK = 727_001;

export interface MigrationResult {
  applied: string[];
  current: number;
}

/**
 * Applies the numbered, forward-only SQL files in order, each in its own transaction,
 * once. Safe to run from several nodes at the same moment: they queue on an advisory lock.
 */
export async function migrate(db: Database, dir: string = MIGRATIONS_DIR): Promise<MigrationResult> {
  // Under the lock too: two concurrent CREATE TABLE IF NOT EXISTS race in the catalogue and
  // one fails with a unique violation (23505 on pg_type) instead of finding the table.
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  });
  const files = (await readdir(dir)).filter((f) => FILE.test(f)).sort();
  const applied: string[] = [];
  for (const file of files) {
    const [, num, name] = FILE.exec(file) ?? [];
    const version = Number(num);
    const sql = await readFile(new URL(file, `file://${dir.endsWith('/') ? dir : dir + '/'}`), 'utf8');
    const didApply = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const done = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [version]);
      if (done.length > 0) return false;
      await tx.exec(sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [version, name]);
      return true;
    });
    if (didApply) applied.push(file);
  }
  const [row] = await db.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
  return { applied, current: row?.v ?? 0 };
}
