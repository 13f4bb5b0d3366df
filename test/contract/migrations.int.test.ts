import { readdirSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PgDatabase, migrate, type Database } from '../../src/store/index.js';
import { createPostgresDatabase, describeEachAdapter, isCI, probePostgres, type TestDatabase } from '../support/databases.js';

/**
 * Migrations (src/store/migrate.ts): numbered, forward-only, each applied once, and safe to
 * run from several nodes at the same moment.
 */
const CORE_TABLES = [
  'api_tokens', 'audit_log', 'events', 'login_throttle', 'merchants', 'order_items', 'orders', 'products',
  'schema_migrations', 'sessions', 'shipping_methods', 'store_memberships', 'stores', 'users',
];
/** Every migration file, as schema_migrations records it once applied. */
const MIGRATIONS = readdirSync(new URL('../../src/store/migrations/', import.meta.url))
  .map((f) => /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(f))
  .filter((m): m is RegExpExecArray => m !== null)
  .map((m) => ({ version: Number(m[1]), name: m[2] }))
  .sort((a, b) => a.version - b.version);
const LATEST = MIGRATIONS.at(-1)?.version ?? 0;
const FILES = MIGRATIONS.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}.sql`);

/** Tables, columns, indexes and triggers: what a second run must leave exactly as it was. */
async function schemaOf(db: Database) {
  const columns = await db.query<{ table_name: string; column_name: string; data_type: string }>(
    `SELECT table_name, column_name, data_type FROM information_schema.columns
     WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
  );
  const indexes = await db.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname");
  const triggers = await db.query<{ tgname: string }>('SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname');
  return {
    tables: [...new Set(columns.map((c) => c.table_name))],
    columns: columns.map((c) => `${c.table_name}.${c.column_name}:${c.data_type}`),
    indexes: indexes.map((i) => i.indexname),
    triggers: triggers.map((t) => t.tgname),
  };
}

await describeEachAdapter('migrations', ({ db: getDb }) => {
  let db: Database;
  beforeAll(() => {
    db = getDb();
  });

  it('has applied every migration once', async () => {
    const schema = await schemaOf(db);
    expect(schema.tables).toEqual(expect.arrayContaining(CORE_TABLES));
    expect(schema.triggers).toEqual(['order_items_immutable', 'orders_snapshot_immutable']);
    expect(schema.indexes).toEqual(expect.arrayContaining(['idx_orders_status', 'idx_orders_store_status', 'events_gap_safe']));
    expect(await db.query('SELECT version, name FROM schema_migrations ORDER BY version')).toEqual(MIGRATIONS);
  });

  it('is idempotent: running it again applies nothing and changes nothing', async () => {
    const before = await schemaOf(db);
    await db.query("INSERT INTO merchants (name) VALUES ('Survives re-migration')");

    expect(await migrate(db)).toEqual({ applied: [], current: LATEST });
    expect(await migrate(db)).toEqual({ applied: [], current: LATEST });

    expect(await schemaOf(db)).toEqual(before);
    expect(await db.query('SELECT count(*)::int AS n FROM schema_migrations')).toEqual([{ n: MIGRATIONS.length }]);
    expect(await db.query("SELECT name FROM merchants WHERE name = 'Survives re-migration'")).toHaveLength(1);
  });
});

const unavailable = isCI ? null : await probePostgres();

describe.skipIf(unavailable !== null)('migrations racing from several nodes [postgres]', () => {
  let opened: { nodes: PgDatabase[]; t: TestDatabase }[] = [];
  async function releaseAll() {
    for (const { nodes, t } of opened) {
      await Promise.all(nodes.map((n) => n.close().catch(() => {})));
      await t.drop();
    }
    opened = [];
  }
  afterEach(releaseAll);

  /**
   * A fresh, empty database and `count` pools on it: the test database's own pool plus
   * `count - 1` more, as if `count` nodes booted together.
   */
  async function freshNodes(count: number) {
    const t = await createPostgresDatabase({ migrate: false });
    const extra = Array.from({ length: count - 1 }, () => new PgDatabase({ connectionString: t.url! }));
    opened.push({ nodes: extra, t });
    return { t, nodes: [t.db, ...extra] };
  }

  it.each([2, 4])('applies the schema exactly once when %i nodes migrate a fresh database at the same moment', async (count) => {
    for (let round = 0; round < 3; round++) {
      const { t, nodes } = await freshNodes(count);

      const results = await Promise.all(nodes.map((node) => migrate(node)));

      expect(results.map((r) => r.current)).toEqual(Array(count).fill(LATEST));
      expect(results.flatMap((r) => r.applied).sort()).toEqual(FILES);
      expect(await t.db.query('SELECT version, name FROM schema_migrations')).toEqual(MIGRATIONS);
      const schema = await schemaOf(t.db);
      expect(schema.tables).toEqual(expect.arrayContaining(CORE_TABLES));
      expect(schema.triggers).toEqual(['order_items_immutable', 'orders_snapshot_immutable']);
      await releaseAll();
    }
  });

  it('lets two migrate() calls share one pool on a fresh database', async () => {
    const { t } = await freshNodes(1);
    const [first, second] = await Promise.all([migrate(t.db), migrate(t.db)]);
    expect([...first!.applied, ...second!.applied].sort()).toEqual(FILES);
    expect(await t.db.query('SELECT count(*)::int AS n FROM schema_migrations')).toEqual([{ n: MIGRATIONS.length }]);
  });
});
