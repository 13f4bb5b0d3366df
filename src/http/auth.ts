import '@fastify/cookie';
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { roleAllows, type Role, type StoreAction } from '../domain/index.js';
import { AppError, type Clock } from '../shared/index.js';
import type { Principal, TenancyStore } from '../store/index.js';

export const SESSION_COOKIE = 'sf_session';

export interface StoreAccess {
  storeId: number;
  merchantId: number;
  role: Role;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    access: StoreAccess | null;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * Who is calling: a dashboard session cookie or an integration's bearer token, resolved
 * once per request. Cookie-authenticated changes must echo the session's CSRF token in
 * X-CSRF-TOKEN (bearer calls cannot be forged cross-site, so they need none).
 */
export function installAuthentication(app: FastifyInstance, deps: { tenancy: TenancyStore; clock: Clock }): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('access', null);
  app.addHook('preHandler', async (request) => {
    // Store routes learn the caller's role in the same round trip (see requireStore).
    const storeId = storeIdParam(request);
    const bearer = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (bearer) {
      request.principal = await deps.tenancy.principalForApiToken(bearer, deps.clock.now(), storeId);
      return;
    }
    const cookie = request.cookies[SESSION_COOKIE];
    if (!cookie) return;
    const principal = await deps.tenancy.principalForSession(cookie, deps.clock.now(), storeId);
    if (principal && !SAFE_METHODS.has(request.method) && request.headers['x-csrf-token'] !== principal.csrfToken) {
      // A forged cross-site form post carries the cookie but cannot know the token.
      request.principal = null;
      request.csrfRejected = true;
      return;
    }
    request.principal = principal;
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    csrfRejected?: boolean;
  }
}

/** The signed-in caller, or the reason there is none. */
export function principalOf(request: FastifyRequest): Principal {
  if (request.csrfRejected) throw new AppError('CSRF_TOKEN_INVALID');
  if (!request.principal) throw new AppError('AUTH_REQUIRED');
  return request.principal;
}

export const requireUser: preHandlerAsyncHookHandler = async function (request: FastifyRequest) {
  principalOf(request);
};

/** The request's `:storeId` when it is a well-formed id (validation answers the rest). */
function storeIdParam(request: FastifyRequest): number | undefined {
  const storeId = Number((request.params as { storeId?: unknown } | undefined)?.storeId);
  return Number.isSafeInteger(storeId) && storeId > 0 ? storeId : undefined;
}

/**
 * Binds the request to the `:storeId` in its path. A store the caller has no membership in
 * answers TENANT_FORBIDDEN whether or not it exists, so ids cannot be probed. The role was
 * usually found with the credentials (`Principal.storeRole`); asked again otherwise.
 */
export function requireStore(tenancy: TenancyStore, action: StoreAction): preHandlerAsyncHookHandler {
  return async function (request: FastifyRequest) {
    const principal = principalOf(request);
    const storeId = storeIdParam(request);
    if (storeId === undefined) throw new AppError('TENANT_FORBIDDEN');
    const looked = principal.storeRole;
    const membership = looked?.storeId === storeId ? looked.membership : await tenancy.roleIn(principal.userId, storeId);
    if (!membership || membership.merchantId !== principal.merchantId) throw new AppError('TENANT_FORBIDDEN');
    if (!roleAllows(membership.role, action)) throw new AppError('ROLE_FORBIDDEN', { role: membership.role, action });
    request.access = { storeId, merchantId: membership.merchantId, role: membership.role };
  };
}

export function accessOf(request: FastifyRequest): StoreAccess & { userId: number } {
  if (!request.access || !request.principal) throw new AppError('AUTH_REQUIRED');
  return { ...request.access, userId: request.principal.userId };
}
