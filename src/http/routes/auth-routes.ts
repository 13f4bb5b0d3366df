import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, type Clock } from '../../shared/index.js';
import { DUMMY_PASSWORD_HASH, verifyPassword, type LockoutPolicy, type TenancyStore } from '../../store/index.js';
import { SESSION_COOKIE, requireUser } from '../auth.js';

export interface AuthConfig {
  sessionTtlMs: number;
  lockout: LockoutPolicy;
  secureCookies: boolean;
  loginRateLimit: { max: number; timeWindow: number };
}

const loginBody = z.object({ email: z.string().max(254), password: z.string().min(1).max(1024) }).strict();
const tokenBody = z.object({ name: z.string().trim().min(1).max(100) }).strict();

/**
 * Sign-in for the dashboard (httpOnly SameSite=Lax session cookie + CSRF token) and API
 * tokens for integrations. A wrong email and a wrong password answer alike. Repeated
 * failures lock the email address for a while, counted per address whether or not an
 * account has it, so a lock reveals nothing about which accounts exist.
 */
export async function authRoutes(app: FastifyInstance, deps: { tenancy: TenancyStore; clock: Clock; config: AuthConfig }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { config } = deps;

  r.post('/api/auth/login', {
    schema: { body: loginBody, tags: ['auth'], summary: 'Sign in; sets the session cookie and returns the CSRF token' },
    config: { rateLimit: config.loginRateLimit },
  }, async (request, reply) => {
    const now = deps.clock.now();
    const { email, password } = request.body;
    const lockedUntil = await deps.tenancy.loginLockedUntil(email, now);
    if (lockedUntil) {
      throw new AppError('AUTH_ACCOUNT_LOCKED', { retry_after_seconds: Math.ceil((lockedUntil.getTime() - now.getTime()) / 1000) });
    }
    const user = await deps.tenancy.findUserByEmail(email);
    // Verify against a dummy hash for unknown emails too: the answer takes as long either way.
    const passwordOk = await verifyPassword(password, user?.password_hash ?? DUMMY_PASSWORD_HASH);
    if (!user || !passwordOk) {
      await deps.tenancy.recordFailedLogin(email, now, config.lockout);
      throw new AppError('AUTH_INVALID_CREDENTIALS');
    }
    await deps.tenancy.clearFailedLogins(email);
    const session = await deps.tenancy.createSession(user.id, now, config.sessionTtlMs);
    reply.setCookie(SESSION_COOKIE, session.token, {
      httpOnly: true,
      sameSite: 'lax',
      secure: config.secureCookies,
      path: '/',
      expires: session.expiresAt,
    });
    return {
      user: { id: user.id, email: user.email, name: user.name },
      csrf_token: session.csrfToken,
      stores: await deps.tenancy.memberships(user.id),
    };
  });

  r.post('/api/auth/logout', { schema: { tags: ['auth'], summary: 'End the session' }, preHandler: requireUser }, async (request, reply) => {
    const cookie = request.cookies[SESSION_COOKIE];
    if (cookie) await deps.tenancy.deleteSession(cookie);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send();
  });

  r.get('/api/me', { schema: { tags: ['auth'], summary: 'The signed-in user and the stores they may access' }, preHandler: requireUser }, async (request) => {
    const p = request.principal;
    if (!p) throw new AppError('AUTH_REQUIRED');
    return {
      user: { id: p.userId, email: p.email, name: p.name, merchant_id: p.merchantId },
      csrf_token: p.csrfToken,
      stores: await deps.tenancy.memberships(p.userId),
    };
  });

  r.post('/api/auth/tokens', {
    schema: { body: tokenBody, tags: ['auth'], summary: 'Create a bearer API token for an integration (shown once)' },
    preHandler: requireUser,
  }, async (request, reply) => {
    const p = request.principal;
    if (!p) throw new AppError('AUTH_REQUIRED');
    const created = await deps.tenancy.createApiToken(p.userId, request.body.name);
    reply.code(201);
    return { id: created.id, name: request.body.name, token: created.token };
  });
}
