import { z } from 'zod';
import { ROLES, type Role } from '../domain/index.js';
import type { Database } from './db.js';
import { newToken, tokenDigest } from './credentials.js';

const userRow = z.object({
  id: z.coerce.number(),
  merchant_id: z.coerce.number(),
  email: z.string(),
  name: z.string(),
  password_hash: z.string(),
});
export type UserRecord = z.infer<typeof userRow>;

const membershipRow = z.object({
  store_id: z.coerce.number(),
  store_name: z.string(),
  merchant_id: z.coerce.number(),
  currency: z.string(),
  role: z.enum(ROLES),
});
export type Membership = z.infer<typeof membershipRow>;

export interface Principal {
  userId: number;
  merchantId: number;
  email: string;
  name: string;
  /** Set for cookie sessions: mutations must echo it in X-CSRF-TOKEN. */
  csrfToken: string | null;
  via: 'session' | 'token';
  /**
   * When the credentials were looked up for a store (the request's `:storeId`): what
   * `roleIn` answers for it, found in the same round trip.
   */
  storeRole?: { storeId: number; membership: { role: Role; merchantId: number } | null };
}

/**
 * The user's role in store `$<n>` of their own merchant, as columns `store_role` and
 * `store_merchant_id` (null for none or a null store id), for a query over users `u`.
 */
const storeRoleJoin = (n: number) => `LEFT JOIN LATERAL (
    SELECT m.role AS store_role, s.merchant_id AS store_merchant_id FROM store_memberships m JOIN stores s ON s.id = m.store_id
    WHERE m.user_id = u.id AND m.store_id = $${n}::bigint AND s.merchant_id = u.merchant_id
  ) sr ON true`;

function toPrincipal(row: Record<string, unknown>, storeId: number | undefined, session: { csrfToken: string } | null): Principal {
  return {
    userId: Number(row.id),
    merchantId: Number(row.merchant_id),
    email: String(row.email),
    name: String(row.name),
    csrfToken: session ? session.csrfToken : null,
    via: session ? 'session' : 'token',
    ...(storeId !== undefined && {
      storeRole: {
        storeId,
        membership: row.store_role == null ? null : { role: z.enum(ROLES).parse(row.store_role), merchantId: Number(row.store_merchant_id) },
      },
    }),
  };
}

export interface LockoutPolicy {
  maxFailures: number;
  lockMs: number;
}

/** Users, store memberships, sessions and API tokens. */
export class TenancyStore {
  constructor(private readonly db: Database) {}

  async findUserByEmail(email: string): Promise<UserRecord | null> {
    const [row] = await this.db.query('SELECT * FROM users WHERE lower(email) = lower($1)', [email]);
    return row ? userRow.parse(row) : null;
  }

  /** Until when sign-ins for this email are refused, if they are. */
  async loginLockedUntil(email: string, now: Date): Promise<Date | null> {
    const [row] = await this.db.query('SELECT locked_until FROM login_throttle WHERE email_key = lower($1) AND locked_until > $2', [
      email,
      now,
    ]);
    return row ? new Date(row.locked_until as string) : null;
  }

  /**
   * Counts a failed sign-in for an email (known or not); locks it once the policy's limit is
   * reached. A failure after an expired lock starts counting afresh.
   */
  async recordFailedLogin(email: string, now: Date, policy: LockoutPolicy): Promise<void> {
    await this.db.query(
      `INSERT INTO login_throttle AS t (email_key, failures, locked_until, updated_at)
       VALUES (lower($1), 1, CASE WHEN $2 <= 1 THEN $3::timestamptz END, $4)
       ON CONFLICT (email_key) DO UPDATE SET
         failures = CASE WHEN t.locked_until <= $4 THEN 1 ELSE t.failures + 1 END,
         locked_until = CASE
           WHEN (CASE WHEN t.locked_until <= $4 THEN 1 ELSE t.failures + 1 END) >= $2 THEN $3::timestamptz
           ELSE NULL END,
         updated_at = $4`,
      [email.slice(0, 254), policy.maxFailures, new Date(now.getTime() + policy.lockMs), now],
    );
  }

  async clearFailedLogins(email: string): Promise<void> {
    await this.db.query('DELETE FROM login_throttle WHERE email_key = lower($1)', [email]);
  }

  async createSession(userId: number, now: Date, ttlMs: number): Promise<{ token: string; csrfToken: string; expiresAt: Date }> {
    const token = newToken('sfs');
    const csrfToken = newToken('sfs').slice(4);
    const expiresAt = new Date(now.getTime() + ttlMs);
    await this.db.query('INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4)', [
      tokenDigest(token),
      userId,
      csrfToken,
      expiresAt,
    ]);
    return { token, csrfToken, expiresAt };
  }

  async deleteSession(token: string): Promise<void> {
    await this.db.query('DELETE FROM sessions WHERE token_hash = $1', [tokenDigest(token)]);
  }

  /** The user behind a session cookie; with `storeId`, also their role in that store (`storeRole`). */
  async principalForSession(token: string, now: Date, storeId?: number): Promise<Principal | null> {
    const [row] = await this.db.query(
      `SELECT u.id, u.merchant_id, u.email, u.name, s.csrf_token, sr.store_role, sr.store_merchant_id
       FROM sessions s JOIN users u ON u.id = s.user_id ${storeRoleJoin(3)}
       WHERE s.token_hash = $1 AND s.expires_at > $2`,
      [tokenDigest(token), now, storeId ?? null],
    );
    return row ? toPrincipal(row, storeId, { csrfToken: String(row.csrf_token) }) : null;
  }

  async createApiToken(userId: number, name: string): Promise<{ id: number; token: string }> {
    const token = newToken('sft');
    const [row] = await this.db.query('INSERT INTO api_tokens (token_hash, user_id, name) VALUES ($1, $2, $3) RETURNING id', [
      tokenDigest(token),
      userId,
      name,
    ]);
    return { id: Number(row?.id), token };
  }

  /**
   * The user behind a bearer token; with `storeId`, also their role in that store
   * (`storeRole`). `last_used_at` is written at most once a minute, so a busy integration
   * does not turn every read into a write on one hot row.
   */
  async principalForApiToken(token: string, now: Date, storeId?: number): Promise<Principal | null> {
    const [row] = await this.db.query(
      `WITH t AS (
         SELECT t.id AS token_id, t.last_used_at, u.id, u.merchant_id, u.email, u.name, sr.store_role, sr.store_merchant_id
         FROM api_tokens t JOIN users u ON u.id = t.user_id ${storeRoleJoin(3)}
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL
       ), touch AS (
         UPDATE api_tokens SET last_used_at = $2
         WHERE id IN (SELECT token_id FROM t WHERE last_used_at IS NULL OR last_used_at < $2::timestamptz - interval '1 minute')
       )
       SELECT id, merchant_id, email, name, store_role, store_merchant_id FROM t`,
      [tokenDigest(token), now, storeId ?? null],
    );
    return row ? toPrincipal(row, storeId, null) : null;
  }

  async memberships(userId: number): Promise<Membership[]> {
    const rows = await this.db.query(
      `SELECT m.store_id, s.name AS store_name, s.merchant_id, s.currency, m.role
       FROM store_memberships m JOIN stores s ON s.id = m.store_id WHERE m.user_id = $1 ORDER BY s.id`,
      [userId],
    );
    return rows.map((r) => membershipRow.parse(r));
  }

  /**
   * Operator rights: platform admins see and act on everything; owners of any store of
   * their merchant see and act on that merchant's share. Null: neither.
   */
  async operatorScope(userId: number): Promise<{ admin: boolean; merchantId: number } | null> {
    const [row] = await this.db.query(
      `SELECT u.platform_admin, u.merchant_id,
         EXISTS (SELECT 1 FROM store_memberships m JOIN stores s ON s.id = m.store_id
                 WHERE m.user_id = u.id AND m.role = 'owner' AND s.merchant_id = u.merchant_id) AS owner
       FROM users u WHERE u.id = $1`,
      [userId],
    );
    if (!row || (!row.platform_admin && !row.owner)) return null;
    return { admin: row.platform_admin === true, merchantId: Number(row.merchant_id) };
  }

  /** The user's role in a store of their own merchant, or null: callers answer the same either way. */
  async roleIn(userId: number, storeId: number): Promise<{ role: Role; merchantId: number } | null> {
    const [row] = await this.db.query(
      `SELECT m.role, s.merchant_id FROM store_memberships m
       JOIN stores s ON s.id = m.store_id JOIN users u ON u.id = m.user_id
       WHERE m.user_id = $1 AND m.store_id = $2 AND u.merchant_id = s.merchant_id`,
      [userId, storeId],
    );
    if (!row) return null;
    return { role: z.enum(ROLES).parse(row.role), merchantId: Number(row.merchant_id) };
  }
}
