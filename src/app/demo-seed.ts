import { hashPassword, type Database } from '../store/index.js';

/**
 * The demo merchant seeded on an empty database: two stores, an owner of both, a manager
 * and a staff member of the first, a small catalog and shipping methods. Credentials are
 * printed at start and listed in the README; change them before exposing a server.
 */
export const DEMO_PASSWORD = 'storeflow-demo';
export const DEMO_USERS = [
  { email: 'owner@demo.storeflow.test', name: 'Olivia Owner', stores: { 1: 'owner', 2: 'owner' } },
  { email: 'manager@demo.storeflow.test', name: 'Marco Manager', stores: { 1: 'manager' } },
  { email: 'staff@demo.storeflow.test', name: 'Sam Staff', stores: { 1: 'staff' } },
] as const;

export interface DemoSeed {
  merchantId: number;
  storeIds: [number, number];
  userIds: Record<'owner' | 'manager' | 'staff', number>;
  productIds: number[];
}

/** Seeds the demo merchant unless any merchant exists. Returns null when it did nothing. */
export async function seedDemoIfEmpty(db: Database, options: { password?: string } = {}): Promise<DemoSeed | null> {
  const [existing] = await db.query('SELECT 1 FROM merchants LIMIT 1');
  if (existing) return null;
  return seedDemo(db, options);
}

export async function seedDemo(db: Database, options: { password?: string; merchantName?: string; emailDomain?: string } = {}): Promise<DemoSeed> {
  const passwordHash = await hashPassword(options.password ?? DEMO_PASSWORD);
  const domain = options.emailDomain ?? 'demo.storeflow.test';
  return db.transaction(async (tx) => {
    const [merchant] = await tx.query('INSERT INTO merchants (name) VALUES ($1) RETURNING id', [
      options.merchantName ?? 'Demo Coffee Co.',
    ]);
    const merchantId = Number(merchant?.id);
    const storeIds: number[] = [];
    for (const [name, email] of [
      ['Demo Coffee — Riverside', `riverside@${domain}`],
      ['Demo Coffee — Old Town', `oldtown@${domain}`],
    ]) {
      const [s] = await tx.query(
        "INSERT INTO stores (merchant_id, name, currency, notification_email) VALUES ($1, $2, 'EUR', $3) RETURNING id",
        [merchantId, name, email],
      );
      storeIds.push(Number(s?.id));
    }
    const userIds = {} as DemoSeed['userIds'];
    for (const u of DEMO_USERS) {
      const email = u.email.replace('demo.storeflow.test', domain);
      const [row] = await tx.query(
        'INSERT INTO users (merchant_id, email, name, password_hash) VALUES ($1, $2, $3, $4) RETURNING id',
        [merchantId, email, u.name, passwordHash],
      );
      const userId = Number(row?.id);
      userIds[u.email.split('@')[0] as keyof DemoSeed['userIds']] = userId;
      for (const [storeIndex, role] of Object.entries(u.stores)) {
        await tx.query('INSERT INTO store_memberships (user_id, store_id, role) VALUES ($1, $2, $3)', [
          userId,
          storeIds[Number(storeIndex) - 1],
          role,
        ]);
      }
    }
    const productIds: number[] = [];
    for (const storeId of storeIds) {
      for (const [name, price] of [
        ['Flat white', 380],
        ['Cappuccino', 360],
        ['Cinnamon bun', 420],
        ['House blend beans 250 g', 1290],
        ['Ceramic mug', 1850],
      ] as const) {
        const [p] = await tx.query(
          "INSERT INTO products (store_id, name, price_minor, currency) VALUES ($1, $2, $3, 'EUR') RETURNING id",
          [storeId, name, price],
        );
        productIds.push(Number(p?.id));
      }
      await tx.query(
        `INSERT INTO shipping_methods (store_id, code, name, price_minor) VALUES
           ($1, 'standard', 'Standard (3–5 days)', 490), ($1, 'express', 'Express (next day)', 990)`,
        [storeId],
      );
    }
    return { merchantId, storeIds: storeIds as [number, number], userIds, productIds };
  });
}
